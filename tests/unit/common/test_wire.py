"""The wire form of jobs and responses is exactly what PySOA 1.x's ``attr.asdict`` made, at a fraction of its cost."""

from typing import Any

import attr
from hypothesis import (
    given,
)
from hypothesis import (
    strategies as st,
)

from pysoa.common._wire import (
    copy_message,
    job_request_to_dict,
    job_response_to_dict,
)
from pysoa.common.errors import Error
from pysoa.common.types import (
    ActionRequest,
    ActionResponse,
    JobRequest,
    JobResponse,
    UnicodeKeysDict,
)


@attr.s
class Point:
    x: int = attr.ib()
    y: Any = attr.ib()


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(), st.binary())
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(st.text(max_size=5), children, max_size=4),
        st.dictionaries(st.text(max_size=5), children, max_size=4).map(UnicodeKeysDict),
        st.builds(Point, st.integers(), children),
    ),
    max_leaves=20,
)
bodies = st.dictionaries(st.text(max_size=5), values, max_size=4)
errors = st.builds(
    Error,
    code=st.text(max_size=5),
    message=st.text(max_size=5),
    field=st.none() | st.text(max_size=5),
    variables=st.none() | bodies,
    denied_permissions=st.none() | st.lists(st.text(max_size=5), max_size=2),
    is_caller_error=st.booleans(),
)


@given(
    st.builds(
        JobRequest,
        control=bodies,
        context=bodies,
        actions=st.lists(st.builds(ActionRequest, action=st.text(max_size=5), body=bodies), max_size=3),
    )
)
def test_job_request_wire_form_is_what_attr_asdict_made(job_request: JobRequest) -> None:
    assert job_request_to_dict(job_request) == attr.asdict(job_request)


@given(
    st.builds(
        JobResponse,
        errors=st.lists(errors, max_size=2),
        context=bodies,
        actions=st.lists(
            st.builds(ActionResponse, action=st.text(max_size=5), errors=st.lists(errors, max_size=2), body=bodies),
            max_size=3,
        ),
    )
)
def test_job_response_wire_form_is_what_attr_asdict_made(job_response: JobResponse) -> None:
    assert job_response_to_dict(job_response) == attr.asdict(job_response)
    assert job_response_to_dict(job_response, (0, 70, 0)) == attr.asdict(job_response)


def test_clients_older_than_0_70_get_errors_without_is_caller_error() -> None:
    response = JobResponse(errors=[Error(code='X', message='m', is_caller_error=True)])

    [error] = job_response_to_dict(response, (0, 69, 9))['errors']

    assert 'is_caller_error' not in error


@given(values)
def test_copies_are_equal_to_attr_asdict_copies_and_share_no_container(value: Any) -> None:
    copy = copy_message(value)

    assert copy == attr.asdict(Point(0, value))['y']
    assert type(copy) in (dict, list) or copy is value


def test_copies_share_no_dict_or_list_with_the_original() -> None:
    inner = {'a': [1, 2]}
    original = {'inner': inner, 'pair': (inner, 3)}

    copy = copy_message(original)

    copy['inner']['a'].append(3)
    copy['pair'][0]['b'] = 1
    assert original == {'inner': {'a': [1, 2]}, 'pair': ({'a': [1, 2]}, 3)}


def test_objects_other_than_containers_are_shared() -> None:
    thing = object()

    assert copy_message({'thing': thing})['thing'] is thing
