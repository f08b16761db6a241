"""
Feature switches (``pysoa.server.internal.types``): what counts as a switch, and the sets of switches a request
carries.
"""

import enum
from typing import Any

import pytest

from pysoa.server.internal.types import (
    RequestSwitchSet,
    SupportsIntValue,
    SwitchSet,
    get_switch,
    is_switch,
)


class Switches(enum.IntEnum):
    NEW_CHECKOUT = 7
    DARK_MODE = 12


class Feature(enum.Enum):
    """A plain (non-int) enum: its members are switches through their ``value``."""

    BETA = 3


class ValueSwitch:
    def __init__(self, value: Any) -> None:
        self.value = value


class IntLike:
    def __int__(self) -> int:
        return 21


NOT_SWITCHES = ['7', None, object(), ValueSwitch('7'), ValueSwitch(None), [7]]


def test_an_int_is_its_own_switch_value() -> None:
    assert get_switch(5) == 5
    assert get_switch(0) == 0


def test_int_enum_member_is_a_switch() -> None:
    assert get_switch(Switches.NEW_CHECKOUT) == 7
    assert isinstance(get_switch(Switches.NEW_CHECKOUT), int)


def test_object_with_int_conversion_is_a_switch() -> None:
    assert get_switch(IntLike()) == 21


def test_object_whose_value_is_an_int_is_a_switch() -> None:
    assert get_switch(ValueSwitch(9)) == 9
    assert get_switch(Feature.BETA) == 3


def test_object_whose_value_converts_to_int_is_a_switch() -> None:
    assert get_switch(ValueSwitch(Switches.DARK_MODE)) == 12
    assert get_switch(ValueSwitch(0)) == 0


@pytest.mark.parametrize('value', NOT_SWITCHES, ids=repr)
def test_other_objects_are_not_switches(value: Any) -> None:
    with pytest.raises(TypeError, match=r'^switch does not implement the switch constant interface$'):
        get_switch(value)


@pytest.mark.parametrize('value', NOT_SWITCHES, ids=repr)
def test_is_switch_is_false_for_non_switches(value: Any) -> None:
    assert is_switch(value) is False


@pytest.mark.parametrize('value', [5, Switches.NEW_CHECKOUT, IntLike(), ValueSwitch(1), Feature.BETA], ids=repr)
def test_is_switch_is_true_for_switches(value: Any) -> None:
    assert is_switch(value) is True


def test_objects_with_int_value_support_the_int_value_protocol() -> None:
    assert isinstance(ValueSwitch(1), SupportsIntValue)
    assert isinstance(Feature.BETA, SupportsIntValue)


def test_switch_set_holds_the_int_values_of_its_switches() -> None:
    switches = SwitchSet([1, Switches.NEW_CHECKOUT, ValueSwitch(9)])

    assert switches == frozenset({1, 7, 9})
    assert all(isinstance(s, int) for s in switches)
    assert isinstance(switches, frozenset)


def test_switch_set_defaults_to_empty() -> None:
    assert SwitchSet() == frozenset()
    assert SwitchSet(None) == frozenset()


def test_switch_set_refuses_non_switches() -> None:
    with pytest.raises(TypeError):
        SwitchSet([1, 'two'])


def test_switch_set_membership_accepts_switch_like_objects() -> None:
    switches = SwitchSet([7, 9])

    assert 7 in switches
    assert Switches.NEW_CHECKOUT in switches
    assert ValueSwitch(9) in switches
    assert Switches.DARK_MODE not in switches
    assert 8 not in switches


def test_switch_set_membership_of_a_non_switch_is_false() -> None:
    assert '7' not in SwitchSet([7])
    assert None not in SwitchSet([7])


def test_request_switch_set_is_active_with_ints_enums_and_value_objects() -> None:
    switches = RequestSwitchSet([7, 3])

    assert switches.is_active(7)
    assert switches.is_active(Switches.NEW_CHECKOUT)
    assert switches.is_active(Feature.BETA)
    assert switches.is_active(ValueSwitch(3))
    assert not switches.is_active(Switches.DARK_MODE)
    assert not switches.is_active(ValueSwitch(4))


def test_request_switch_set_is_inactive_for_non_switches() -> None:
    assert RequestSwitchSet([7]).is_active('7') is False


def test_request_switch_set_is_a_switch_set() -> None:
    switches = RequestSwitchSet([1])

    assert isinstance(switches, SwitchSet)
    assert switches == frozenset({1})
    assert hash(switches) == hash(frozenset({1}))
