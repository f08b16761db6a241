"""The sample service's settings, with metrics logged as warnings (so the supervisor's counters reach its output)."""

from tests.process.sample_service.settings import SOA_SERVER_SETTINGS as _SAMPLE_SETTINGS


SOA_SERVER_SETTINGS = {
    **_SAMPLE_SETTINGS,
    'metrics': {
        'path': 'pymetrics.recorders.default:DefaultMetricsRecorder',
        'kwargs': {
            'prefix': None,
            'config': {
                'version': 2,
                'publishers': [
                    {
                        'path': 'pymetrics.publishers.logging:LogPublisher',
                        'kwargs': {'log_name': 'metrics', 'log_level': 'WARNING'},
                    }
                ],
            },
        },
    },
}
