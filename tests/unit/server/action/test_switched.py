"""SwitchedAction: selecting an action by the request's switches, and the checks made when a subclass is created."""

import enum
from typing import (
    Any,
    Dict,
    Iterable,
    Optional,
)

import pytest

from pysoa.common.types import ActionResponse
from pysoa.server.action import Action
from pysoa.server.action.switched import SwitchedAction
from pysoa.server.types import EnrichedActionRequest


class ActionA(Action):
    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        return {'chosen': 'A', 'settings': self.settings}


class ActionB(Action):
    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        return {'chosen': 'B', 'settings': self.settings}


class ActionC(Action):
    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        return {'chosen': 'C', 'settings': self.settings}


class Switch(enum.IntEnum):
    OFF = 0
    FIVE = 5
    SEVEN = 7


class ValueSwitch:
    """A switch-like object that only has ``value``."""

    def __init__(self, value: int) -> None:
        self.value = value


def request_with(switches: Iterable[Any]) -> EnrichedActionRequest:
    return EnrichedActionRequest(action='switched', body={}, switches=switches)


def chosen(action_class: type, switches: Iterable[Any]) -> type:
    return action_class().get_uninitialized_action(request_with(switches))  # type: ignore[no-any-return]


class FiveOrDefault(SwitchedAction):
    switch_to_action_map = (
        (5, ActionA),
        (7, ActionB),
        (SwitchedAction.DEFAULT_ACTION, ActionC),
    )


class FiveOrLast(SwitchedAction):
    switch_to_action_map = (
        (5, ActionA),
        (7, ActionB),
        (9, ActionC),
    )


# Selection


def test_first_active_switch_wins() -> None:
    assert chosen(FiveOrDefault, [7, 5]) is ActionA


def test_later_entry_wins_when_only_its_switch_is_active() -> None:
    assert chosen(FiveOrDefault, [7, 1]) is ActionB


def test_default_entry_wins_when_no_switch_is_active() -> None:
    assert chosen(FiveOrDefault, [1, 2]) is ActionC


def test_default_entry_is_used_wherever_it_is_placed() -> None:
    class DefaultFirst(SwitchedAction):
        switch_to_action_map = [
            (SwitchedAction.DEFAULT_ACTION, ActionA),
            (5, ActionB),
            (7, ActionC),
        ]

    assert chosen(DefaultFirst, [7]) is ActionC
    assert chosen(DefaultFirst, []) is ActionA


def test_last_entry_wins_when_no_switch_is_active_and_there_is_no_default() -> None:
    assert chosen(FiveOrLast, []) is ActionC


def test_active_switch_takes_precedence_over_last_entry_fallback() -> None:
    assert chosen(FiveOrLast, [9, 7]) is ActionB


def test_zero_switch_is_never_selected_even_if_active() -> None:
    class ZeroFirst(SwitchedAction):
        switch_to_action_map = ((0, ActionA), (SwitchedAction.DEFAULT_ACTION, ActionB))

    assert chosen(ZeroFirst, [0]) is ActionB


def test_zero_switch_entry_is_selected_as_last_entry_fallback() -> None:
    class ZeroLast(SwitchedAction):
        switch_to_action_map = ((5, ActionA), (0, ActionB))

    assert chosen(ZeroLast, [0]) is ActionB
    assert chosen(ZeroLast, [5, 0]) is ActionA


def test_zero_switch_entry_can_be_the_default() -> None:
    class ZeroDefault(SwitchedAction):
        switch_to_action_map = ((0, ActionA), (5, ActionB), (SwitchedAction.DEFAULT_ACTION, ActionA))

    assert chosen(ZeroDefault, [0]) is ActionA


def test_int_enum_switches_are_matched_by_value() -> None:
    class EnumSwitched(SwitchedAction):
        switch_to_action_map = ((Switch.FIVE, ActionA), (Switch.SEVEN, ActionB), (Switch.OFF, ActionC))

    assert chosen(EnumSwitched, [7]) is ActionB
    assert chosen(EnumSwitched, [Switch.FIVE]) is ActionA
    assert chosen(EnumSwitched, [0]) is ActionC


def test_zero_valued_int_enum_switch_is_never_selected_when_active() -> None:
    class EnumZeroFirst(SwitchedAction):
        switch_to_action_map = ((Switch.OFF, ActionA), (Switch.FIVE, ActionB), (Switch.SEVEN, ActionC))

    assert chosen(EnumZeroFirst, [0]) is ActionC


def test_objects_with_int_value_attribute_are_switches() -> None:
    class ValueSwitched(SwitchedAction):
        switch_to_action_map = ((ValueSwitch(5), ActionA), (ValueSwitch(7), ActionB), (ValueSwitch(0), ActionC))

    assert chosen(ValueSwitched, [7]) is ActionB
    assert chosen(ValueSwitched, [0]) is ActionC


def test_zero_valued_value_switch_is_never_selected_when_active() -> None:
    class ValueZeroFirst(SwitchedAction):
        switch_to_action_map = ((ValueSwitch(0), ActionA), (SwitchedAction.DEFAULT_ACTION, ActionB))

    assert chosen(ValueZeroFirst, [0]) is ActionB


def test_negative_one_request_switch_does_not_select_default_entry_as_active() -> None:
    class DefaultFirstThenFive(SwitchedAction):
        switch_to_action_map = ((SwitchedAction.DEFAULT_ACTION, ActionA), (-1, ActionB), (5, ActionC))

    assert chosen(DefaultFirstThenFive, [-1]) is ActionB


def test_call_runs_the_selected_action_with_the_settings() -> None:
    settings: Any = {'a': 1}

    response = FiveOrDefault(settings)(request_with([7]))

    assert response == ActionResponse(action='switched', body={'chosen': 'B', 'settings': settings})


def test_action_factories_are_supported() -> None:
    def factory(settings: Optional[Any]) -> Any:
        return lambda request: ActionResponse(action=request.action, body={'factory': settings})

    class FactorySwitched(SwitchedAction):
        switch_to_action_map = ((5, factory), (SwitchedAction.DEFAULT_ACTION, ActionA))

    assert FactorySwitched('s')(request_with([5])).body == {'factory': 's'}  # type: ignore[arg-type]


def test_subclass_of_a_switched_action_inherits_its_map() -> None:
    class Child(FiveOrDefault):
        pass

    assert chosen(Child, [5]) is ActionA


# DEFAULT_ACTION


def test_default_action_equals_any_instance_of_its_class_with_negative_int() -> None:
    default_class = type(SwitchedAction.DEFAULT_ACTION)

    class MinusTwo(default_class):  # type: ignore[misc,valid-type]
        def __int__(self) -> int:
            return -2

    class Positive(default_class):  # type: ignore[misc,valid-type]
        def __int__(self) -> int:
            return 3

    assert SwitchedAction.DEFAULT_ACTION == default_class()
    assert SwitchedAction.DEFAULT_ACTION == MinusTwo()
    assert SwitchedAction.DEFAULT_ACTION != Positive()
    assert SwitchedAction.DEFAULT_ACTION != -1
    assert hash(SwitchedAction.DEFAULT_ACTION) == hash(default_class())
    assert int(SwitchedAction.DEFAULT_ACTION) < 0


# Instantiation and class-creation checks


def test_switched_action_itself_cannot_be_instantiated() -> None:
    with pytest.raises(TypeError, match=r'^Cannot instantiate abstract SwitchedAction$'):
        SwitchedAction()


def test_missing_map_is_rejected() -> None:
    with pytest.raises(ValueError, match='must define switch_to_action_map'):

        class NoMap(SwitchedAction):
            pass


@pytest.mark.parametrize('switch_map', [{5: ActionA, 7: ActionB}, 'ab', None, 5])
def test_map_that_is_not_a_sequence_of_pairs_is_rejected(switch_map: Any) -> None:
    with pytest.raises(ValueError, match='must be a sequence'):

        class BadMap(SwitchedAction):
            switch_to_action_map = switch_map


@pytest.mark.parametrize('switch_map', [(), ((5, ActionA),)])
def test_map_with_fewer_than_two_pairs_is_rejected(switch_map: Any) -> None:
    with pytest.raises(ValueError, match='at least two'):

        class Short(SwitchedAction):
            switch_to_action_map = switch_map


@pytest.mark.parametrize('item', [(5,), (5, ActionA, 'extra'), 'ab', ActionA, 5])
def test_map_item_that_is_not_a_pair_is_rejected(item: Any) -> None:
    with pytest.raises(ValueError, match=r'switch_to_action_map\[1\] must be a \(switch, action\) pair'):

        class BadItem(SwitchedAction):
            switch_to_action_map = ((5, ActionA), item)


@pytest.mark.parametrize('switch', ['5', None, 1.5j, object()])
def test_map_item_with_a_non_switch_is_rejected(switch: Any) -> None:
    with pytest.raises(ValueError, match=r'switch_to_action_map\[0\] has the switch .* which is neither a switch'):

        class BadSwitch(SwitchedAction):
            switch_to_action_map = ((switch, ActionA), (5, ActionB))


def test_map_item_with_a_non_callable_action_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"switch_to_action_map\[1\] has the action 'ActionB', which is not callable"):

        class BadAction(SwitchedAction):
            switch_to_action_map = ((5, ActionA), (7, 'ActionB'))  # type: ignore[assignment]


def test_map_with_two_default_entries_is_rejected() -> None:
    with pytest.raises(ValueError, match='more than one DEFAULT_ACTION'):

        class TwoDefaults(SwitchedAction):
            switch_to_action_map = (
                (SwitchedAction.DEFAULT_ACTION, ActionA),
                (5, ActionB),
                (SwitchedAction.DEFAULT_ACTION, ActionC),
            )


def test_multiple_inheritance_is_rejected() -> None:
    class Mixin:
        pass

    with pytest.raises(TypeError, match='cannot use multiple inheritance'):

        class Mixed(FiveOrDefault, Mixin):
            pass


def test_overriding_default_action_is_rejected() -> None:
    with pytest.raises(TypeError, match='cannot override DEFAULT_ACTION'):

        class Overriding(SwitchedAction):
            DEFAULT_ACTION = 0  # type: ignore[assignment]
            switch_to_action_map = ((5, ActionA), (0, ActionB))
