"""Packaging for PySOA 2, a modern drop-in successor of PySOA 1.4.9."""

import os

from setuptools import find_packages, setup


HERE = os.path.abspath(os.path.dirname(__file__))


def read_version() -> str:
    namespace: dict = {}
    with open(os.path.join(HERE, 'pysoa', 'version.py'), encoding='utf-8') as f:
        exec(f.read(), namespace)
    return namespace['__version__']


def read_readme() -> str:
    with open(os.path.join(HERE, 'README.rst'), encoding='utf-8') as f:
        return f.read()


install_requires = [
    # Conformity 1.28 caps attrs below 22; we only use the ``attr`` API that attrs 21.4 has.
    'attrs>=19.2,<22',
    'conformity~=1.28',
    'currint>=2',
    'msgpack>=1.0',
    'pymetrics~=1.0.7',
    'pytz>=2019.1',
    'redis[hiredis]>=5',  # hiredis: redis-py's C reply parser, faster on every round trip
]

testing_requires = [
    'factory_boy>=3.2',
    'freezegun>=1.2',
    'pyparsing>=3',
    'pytest>=8',
]

django_requires = [
    'django>=4.2',
]

docs_requires = [
    'sphinx>=7',
]

opentelemetry_requires = [
    'opentelemetry-api>=1.20',
]

prometheus_requires = [
    'prometheus_client>=0.18',
]

setup(
    name='pysoa',
    version=read_version(),
    description='A library for writing (micro)services and their clients, wire-compatible with PySOA 1.4.9',
    long_description=read_readme(),
    long_description_content_type='text/x-rst',
    license='Apache-2.0',
    packages=find_packages(include=['pysoa', 'pysoa.*']),
    package_data={'pysoa': ['py.typed']},
    include_package_data=True,
    zip_safe=False,
    python_requires='>=3.9',
    install_requires=install_requires,
    project_urls={
        'Documentation': 'https://pysoa.readthedocs.io/',
        'Changelog': 'https://pysoa.readthedocs.io/en/latest/changelog.html',
        'Download': 'https://pypi.org/project/pysoa/',
    },
    entry_points={
        'console_scripts': [
            'pysoa = pysoa.cli:main',
        ],
        'pytest11': [
            'pysoa_test_fixtures = pysoa.test.plugins.pytest.fixtures',
            'pysoa_test_plan = pysoa.test.plugins.pytest.plans',
        ],
    },
    extras_require={
        'testing': testing_requires,
        'django': django_requires,
        'docs': docs_requires,
        'opentelemetry': opentelemetry_requires,
        'prometheus': prometheus_requires,
    },
    classifiers=[
        'Development Status :: 5 - Production/Stable',
        'Intended Audience :: Developers',
        'Operating System :: POSIX',
        'Programming Language :: Python :: 3',
        'Programming Language :: Python :: 3 :: Only',
        'Programming Language :: Python :: 3.9',
        'Programming Language :: Python :: 3.10',
        'Programming Language :: Python :: 3.11',
        'Programming Language :: Python :: 3.12',
        'Programming Language :: Python :: 3.13',
        'Programming Language :: Python :: Implementation :: CPython',
        'Topic :: Software Development :: Libraries :: Application Frameworks',
        'Topic :: System :: Distributed Computing',
        'Typing :: Typed',
    ],
)
