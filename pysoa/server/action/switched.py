"""An action that delegates each request to one of several actions, chosen by the request's switches."""

from collections.abc import Sequence as SequenceABC
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    Optional,
    Sequence,
    SupportsInt,
    Tuple,
    Type,
    Union,
)

from pysoa.common.types import ActionResponse
from pysoa.server.internal.types import (
    SupportsIntValue,
    get_switch,
    is_switch,
)
from pysoa.server.types import (
    ActionInterface,
    ActionType,
    EnrichedActionRequest,
)


if TYPE_CHECKING:
    from pysoa.server.settings import ServerSettings


__all__ = ('SwitchedAction',)


SwitchType = Union[int, SupportsInt, SupportsIntValue]
"""A switch: an int, an object with ``__int__`` (an ``IntEnum`` member, ...), or an object whose ``value`` has it."""


class _DefaultAction:
    """
    The type of :attr:`SwitchedAction.DEFAULT_ACTION`: a sentinel equal to any instance of this class whose ``int()``
    is negative, and never equal to a plain switch value.
    """

    def __int__(self) -> int:
        return -1

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _DefaultAction):
            # Checking both sides keeps the comparison symmetric for subclasses.
            return int(self) < 0 and int(other) < 0
        return NotImplemented

    def __hash__(self) -> int:
        return hash(_DefaultAction)

    def __repr__(self) -> str:
        return 'SwitchedAction.DEFAULT_ACTION'


_DEFAULT_ACTION = _DefaultAction()


class SwitchedAction(ActionInterface):
    """
    An action that hands each request to one of several actions depending on the switches active in the request, so
    that a new implementation of an action can be rolled out behind a switch.

    Subclasses set :attr:`switch_to_action_map` to a sequence of at least two ``(switch, action)`` pairs. For each
    request the first pair whose switch is non-zero and active in the request wins; if none is, the pair whose switch
    is :attr:`DEFAULT_ACTION` wins if there is one, and the last pair otherwise. A pair whose switch value is 0 is
    therefore only ever selected as that fallback. Example::

        class UserActionV1(Action): ...
        class UserActionV2(Action): ...

        class UserAction(SwitchedAction):
            switch_to_action_map = (
                (USER_VERSION_2_ENABLED, UserActionV2),
                (SwitchedAction.DEFAULT_ACTION, UserActionV1),
            )

    The map is checked when the class is created (``ValueError`` if it is malformed). A subclass must have exactly one
    base class and must not override :attr:`DEFAULT_ACTION` (``TypeError`` otherwise). ``SwitchedAction`` itself
    cannot be instantiated.
    """

    DEFAULT_ACTION: ClassVar[_DefaultAction] = _DEFAULT_ACTION
    """Use in place of a switch to mark the pair selected when no other pair's switch is active."""

    switch_to_action_map: Sequence[Tuple[SwitchType, ActionType]]
    """The ``(switch, action)`` pairs, in priority order; each action is called with the settings to create it."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if len(cls.__bases__) != 1:
            raise TypeError(
                f'{cls.__name__}: a SwitchedAction subclass cannot use multiple inheritance (it has the bases '
                f'{", ".join(b.__name__ for b in cls.__bases__)})'
            )
        if 'DEFAULT_ACTION' in cls.__dict__:
            raise TypeError(f'{cls.__name__}: a SwitchedAction subclass cannot override DEFAULT_ACTION')
        _check_switch_to_action_map(cls)

    def __init__(self, settings: Optional['ServerSettings'] = None) -> None:
        """
        :param settings: The server's settings, passed on to the selected action.

        :raises TypeError: If called on ``SwitchedAction`` itself rather than a subclass.
        """
        if type(self) is SwitchedAction:
            raise TypeError('Cannot instantiate abstract SwitchedAction')
        self.settings = settings

    def get_uninitialized_action(self, action_request: EnrichedActionRequest) -> ActionType:
        """
        Select the action for a request, without creating it.

        :param action_request: The request; only its ``switches`` are used.

        :return: The action (class or factory) of the selected ``(switch, action)`` pair.
        """
        default_action: Optional[ActionType] = None
        last_action: Optional[ActionType] = None
        for switch, action in self.switch_to_action_map:
            if switch == _DEFAULT_ACTION:
                default_action = action
                continue
            last_action = action
            if get_switch(switch) and action_request.switches.is_active(switch):
                return action
        if default_action is not None:
            return default_action
        # The class-creation check guarantees at least two pairs, at most one of them the default.
        assert last_action is not None
        return last_action

    def __call__(self, action_request: EnrichedActionRequest) -> ActionResponse:
        """Create the action that :meth:`get_uninitialized_action` selects with the settings, and run it."""
        action = self.get_uninitialized_action(action_request)
        return action(self.settings)(action_request)


def _check_switch_to_action_map(cls: Type[SwitchedAction]) -> None:
    name = cls.__name__
    if not hasattr(cls, 'switch_to_action_map'):
        raise ValueError(f'{name}: a SwitchedAction subclass must define switch_to_action_map')

    switch_map: Any = cls.switch_to_action_map
    if not isinstance(switch_map, SequenceABC) or isinstance(switch_map, (str, bytes)):
        raise ValueError(
            f'{name}.switch_to_action_map must be a sequence (tuple or list) of (switch, action) pairs, not '
            f'{type(switch_map).__name__}'
        )
    if len(switch_map) < 2:
        raise ValueError(
            f'{name}.switch_to_action_map must contain at least two (switch, action) pairs, but it has '
            f'{len(switch_map)}'
        )

    default_count = 0
    for index, pair in enumerate(switch_map):
        if not isinstance(pair, SequenceABC) or isinstance(pair, (str, bytes)) or len(pair) != 2:
            raise ValueError(
                f'{name}.switch_to_action_map[{index}] must be a (switch, action) pair, but it is {pair!r}'
            )
        switch, action = pair
        if switch == _DEFAULT_ACTION:
            default_count += 1
            if default_count > 1:
                raise ValueError(f'{name}.switch_to_action_map contains more than one DEFAULT_ACTION pair')
        elif not is_switch(switch):
            raise ValueError(
                f'{name}.switch_to_action_map[{index}] has the switch {switch!r}, which is neither a switch (an int, '
                f'an object with __int__, or an object whose value has __int__) nor SwitchedAction.DEFAULT_ACTION'
            )
        if not callable(action):
            raise ValueError(
                f'{name}.switch_to_action_map[{index}] has the action {action!r}, which is not callable (it must be '
                f'an action class, such as an Action subclass, or an action factory)'
            )
