"""The quick-start demo. The example service and its demo are not built yet; this placeholder says so."""


def main() -> None:
    print('PySOA 2: the example service demo is not built yet; for now, run the tests with: bash scripts/test.sh')


if __name__ == '__main__':
    main()
