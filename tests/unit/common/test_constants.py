from pysoa.common import constants


def test_every_error_code_has_its_wire_value() -> None:
    assert {name: getattr(constants, name) for name in constants.__all__} == {
        'ERROR_CODE_ACCESS_DENIED': 'ACCESS_DENIED',
        'ERROR_CODE_ACTION_TIMEOUT': 'ACTION_TIMEOUT',
        'ERROR_CODE_INVALID': 'INVALID',
        'ERROR_CODE_JOB_TIMEOUT': 'JOB_TIMEOUT',
        'ERROR_CODE_MISSING': 'MISSING',
        'ERROR_CODE_NOT_AUTHORIZED': 'NOT_AUTHORIZED',
        'ERROR_CODE_NOT_FOUND': 'NOT_FOUND',
        'ERROR_CODE_RESPONSE_NOT_SERIALIZABLE': 'RESPONSE_NOT_SERIALIZABLE',
        'ERROR_CODE_RESPONSE_TOO_LARGE': 'RESPONSE_TOO_LARGE',
        'ERROR_CODE_SERVER_ERROR': 'SERVER_ERROR',
        'ERROR_CODE_UNKNOWN': 'UNKNOWN',
    }


def test_validation_codes_are_conformitys_own() -> None:
    from conformity import constants as conformity_constants

    assert constants.ERROR_CODE_INVALID is conformity_constants.ERROR_CODE_INVALID
    assert constants.ERROR_CODE_MISSING is conformity_constants.ERROR_CODE_MISSING
    assert constants.ERROR_CODE_UNKNOWN is conformity_constants.ERROR_CODE_UNKNOWN
