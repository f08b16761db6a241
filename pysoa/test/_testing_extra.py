"""What :mod:`pysoa.test` says when a package of PySOA's ``testing`` extra is not installed."""

__all__ = ('missing_testing_extra',)

# The import name of each package of the testing extra, and the name to install it by.
_DISTRIBUTIONS = {'factory': 'factory_boy', 'freezegun': 'freezegun', 'pyparsing': 'pyparsing', 'pytest': 'pytest'}


def missing_testing_extra(error: ImportError, module: str) -> ImportError:
    """
    The error to raise, in place of ``error``, when importing ``module`` failed because a package of the testing extra
    is missing: it says to install ``pysoa[testing]``.
    """
    name = (error.name or '').partition('.')[0]
    return ModuleNotFoundError(
        f"{module} needs {_DISTRIBUTIONS.get(name, name or 'a package')}, which comes with PySOA's testing extra: "
        f"pip install 'pysoa[testing]'",
        name=error.name,
    )
