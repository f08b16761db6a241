"""
Censoring of sensitive values (passwords, card numbers, secrets, ...) in dicts written to logs.
"""

from typing import (
    AbstractSet,
    Any,
    Dict,
    FrozenSet,
    Optional,
    Set,
)


__all__ = (
    'SENSITIVE_FIELDS',
    'RecursivelyCensoredDictWrapper',
)


# The key names whose values are censored (case-sensitive), sorted case-insensitively.
SENSITIVE_FIELDS: FrozenSet[str] = frozenset(
    {
        'account-number',
        'account-numbers',
        'account_number',
        'account_numbers',
        'accountNumber',
        'accountNumbers',
        'auth',
        'auth-token',
        'auth_token',
        'authentication',
        'authentication-token',
        'authentication_token',
        'authenticationToken',
        'authorization',
        'authorization-token',
        'authorization_token',
        'authorizationToken',
        'authToken',
        'bank-account',
        'bank-account-number',
        'bank-account-numbers',
        'bank-accounts',
        'bank_account',
        'bank_account_number',
        'bank_account_numbers',
        'bank_accounts',
        'bankAccount',
        'bankAccountNumber',
        'bankAccountNumbers',
        'bankAccounts',
        'card-id',
        'card-identification',
        'card-identification-code',
        'card-identification-codes',
        'card-identification-number',
        'card-identification-numbers',
        'card-identification-value',
        'card-identification-values',
        'card-identifications',
        'card-ids',
        'card-number',
        'card-numbers',
        'card-securities',
        'card-security',
        'card-security-code',
        'card-security-codes',
        'card-security-number',
        'card-security-numbers',
        'card-security-value',
        'card-security-values',
        'card-validation',
        'card-validation-code',
        'card-validation-codes',
        'card-validation-number',
        'card-validation-numbers',
        'card-validation-value',
        'card-validation-values',
        'card-validations',
        'card-verification',
        'card-verification-code',
        'card-verification-codes',
        'card-verification-number',
        'card-verification-numbers',
        'card-verification-value',
        'card-verification-values',
        'card-verifications',
        'card_id',
        'card_identification',
        'card_identification_code',
        'card_identification_codes',
        'card_identification_number',
        'card_identification_numbers',
        'card_identification_value',
        'card_identification_values',
        'card_identifications',
        'card_ids',
        'card_number',
        'card_numbers',
        'card_securities',
        'card_security',
        'card_security_code',
        'card_security_codes',
        'card_security_number',
        'card_security_numbers',
        'card_security_value',
        'card_security_values',
        'card_validation',
        'card_validation_code',
        'card_validation_codes',
        'card_validation_number',
        'card_validation_numbers',
        'card_validation_value',
        'card_validation_values',
        'card_validations',
        'card_verification',
        'card_verification_code',
        'card_verification_codes',
        'card_verification_number',
        'card_verification_numbers',
        'card_verification_value',
        'card_verification_values',
        'card_verifications',
        'cardId',
        'cardIdentification',
        'cardIdentificationCode',
        'cardIdentificationCodes',
        'cardIdentificationNumber',
        'cardIdentificationNumbers',
        'cardIdentifications',
        'cardIdentificationValue',
        'cardIdentificationValues',
        'cardIds',
        'cardNumber',
        'cardNumbers',
        'cardSecurities',
        'cardSecurity',
        'cardSecurityCode',
        'cardSecurityCodes',
        'cardSecurityNumber',
        'cardSecurityNumbers',
        'cardSecurityValue',
        'cardSecurityValues',
        'cardValidation',
        'cardValidationCode',
        'cardValidationCodes',
        'cardValidationNumber',
        'cardValidationNumbers',
        'cardValidations',
        'cardValidationValue',
        'cardValidationValues',
        'cardVerification',
        'cardVerificationCode',
        'cardVerificationCodes',
        'cardVerificationNumber',
        'cardVerificationNumbers',
        'cardVerifications',
        'cardVerificationValue',
        'cardVerificationValues',
        'cc-number',
        'cc-numbers',
        'cc_number',
        'cc_numbers',
        'ccn',
        'ccns',
        'ccNumber',
        'ccNumbers',
        'cid',
        'cids',
        'credit-card',
        'credit-card-number',
        'credit-card-numbers',
        'credit-cards',
        'credit_card',
        'credit_card_number',
        'credit_card_numbers',
        'credit_cards',
        'creditCard',
        'creditCardNumber',
        'creditCardNumbers',
        'creditCards',
        'csc',
        'cscs',
        'csn',
        'csns',
        'cvc',
        'cvc2',
        'cvc2s',
        'cvcs',
        'cvd',
        'cvds',
        'cve',
        'cves',
        'cvn2',
        'cvn2s',
        'cvv',
        'cvv2',
        'cvv2s',
        'cvvs',
        'icvv',
        'icvvs',
        'pass',
        'pass-phrase',
        'pass-phrases',
        'pass_phrase',
        'pass_phrases',
        'passPhrase',
        'passphrase',
        'passPhrases',
        'passphrases',
        'passwd',
        'passwds',
        'password',
        'passwords',
        'personal-id-number',
        'personal-id-numbers',
        'personal-identification-number',
        'personal-identification-numbers',
        'personal_id_number',
        'personal_id_numbers',
        'personal_identification_number',
        'personal_identification_numbers',
        'personalIdentificationNumber',
        'personalIdentificationNumbers',
        'personalIdNumber',
        'personalIdNumbers',
        'pin',
        'pin-code',
        'pin-codes',
        'pin-number',
        'pin-numbers',
        'pin_code',
        'pin_codes',
        'pin_number',
        'pin_numbers',
        'pinCode',
        'pinCodes',
        'pinNumber',
        'pinNumbers',
        'pins',
        'private',
        'private-key',
        'private-keys',
        'private_key',
        'private_keys',
        'privateKey',
        'privateKeys',
        'privates',
        'secret',
        'secret-key',
        'secret-keys',
        'secret_key',
        'secret_keys',
        'secretKey',
        'secretKeys',
        'secrets',
        'security-code',
        'security-codes',
        'security_code',
        'security_codes',
        'securityCode',
        'securityCodes',
        'token',
    }
)


CENSORED_VALUE = '**********'


class RecursivelyCensoredDictWrapper:
    """
    Wraps a dict to be logged so that the values of sensitive keys are censored in its string form.

    Meant to be passed as a lazy logging argument, so that nothing is computed unless the record is formatted::

        logger.info('Request: %s', RecursivelyCensoredDictWrapper(request_dict))

    On first use, a censored deep copy of the dict is built and its ``repr`` is cached; ``repr()`` and ``str()`` both
    return it. The wrapped dict is never modified.

    For every key in :attr:`SENSITIVE_FIELDS`, a value that is a non-empty string or a non-zero integer (booleans
    excluded) is replaced with ``'**********'``; lists, tuples, sets and frozensets under such a key have such elements
    replaced likewise. Dicts are always recursed into, and their own keys decide what is censored within them. Floats,
    bytes, ``None``, empty strings and zero are never censored.

    A subclass may extend the set: ``SENSITIVE_FIELDS = RecursivelyCensoredDictWrapper.SENSITIVE_FIELDS | {'ssn'}``.
    """

    SENSITIVE_FIELDS: FrozenSet[str] = SENSITIVE_FIELDS

    def __init__(self, wrapped_dict: Dict[Any, Any]) -> None:
        """
        :param wrapped_dict: The dict to censor when it is logged.

        :raises ValueError: If ``wrapped_dict`` is not a dict.
        """
        if not isinstance(wrapped_dict, dict):
            raise ValueError('wrapped_dict must be a dict')
        self._wrapped_dict = wrapped_dict
        self._censored_repr: Optional[str] = None

    def __repr__(self) -> str:
        """Returns the ``repr`` of the censored copy, computing it on first use."""
        if self._censored_repr is None:
            self._censored_repr = repr(_censor(self._wrapped_dict, False, self.SENSITIVE_FIELDS, set()))
        return self._censored_repr

    def __str__(self) -> str:
        """Same as ``repr``."""
        return self.__repr__()

    def __bytes__(self) -> bytes:
        """Returns the UTF-8 encoding of ``str``."""
        return self.__str__().encode('utf-8')


class _RecursiveReference:
    """Stands in for a container that contains itself, shown the way ``repr`` shows such references."""

    def __init__(self, text: str) -> None:
        self._text = text

    def __repr__(self) -> str:
        return self._text


def _censor(value: Any, sensitive: bool, sensitive_fields: AbstractSet[Any], in_progress: Set[int]) -> Any:
    """
    Returns a censored copy of ``value``. ``sensitive`` tells whether the value belongs to a sensitive key;
    ``in_progress`` holds the ids of the containers being copied, to survive self-referencing containers.
    """
    if isinstance(value, str):
        return CENSORED_VALUE if sensitive and value else value
    if isinstance(value, int) and not isinstance(value, bool):
        return CENSORED_VALUE if sensitive and value != 0 else value
    if not isinstance(value, (dict, list, tuple, set, frozenset)):
        return value

    if id(value) in in_progress:
        return _RecursiveReference(
            '{...}' if isinstance(value, dict) else '[...]' if isinstance(value, list) else '(...)'
        )
    in_progress.add(id(value))
    try:
        if isinstance(value, dict):
            return {k: _censor(v, k in sensitive_fields, sensitive_fields, in_progress) for k, v in value.items()}
        elements = (_censor(v, sensitive, sensitive_fields, in_progress) for v in value)
        if isinstance(value, list):
            return list(elements)
        if isinstance(value, tuple):
            return tuple(elements)
        if isinstance(value, set):
            return set(elements)
        return frozenset(elements)
    finally:
        in_progress.discard(id(value))
