"""Functions that travel as their source: what may travel, what is refused in one line
at schedule time, and how the source runs where it arrives."""
import traceback

import pytest

from jobconsole import shipped
from jobconsole.errors import BadInput

import shippable


def test_a_self_contained_function_travels_and_runs_where_it_arrives():
    packed = shipped.pack(shippable.addition)
    assert packed.name == "addition"
    assert packed.code.startswith("def addition(a, b):")
    assert shipped.load(packed.key, packed.name, packed.code)(a=1, b=2) == 3


def test_the_key_is_the_same_for_the_same_function_and_differs_otherwise():
    assert shipped.pack(shippable.addition).key == shipped.pack(shippable.addition).key
    assert shipped.pack(shippable.addition).key != shipped.pack(shippable.fails).key


def test_its_own_imports_travel_with_it():
    packed = shipped.pack(shippable.uses_its_own_imports)
    assert shipped.load(packed.key, packed.name, packed.code)("/a/b.txt") == "b.txt"


def test_a_recursive_function_travels():
    packed = shipped.pack(shippable.factorial)
    assert shipped.load(packed.key, packed.name, packed.code)(5) == 120


def test_a_decorator_is_left_behind():
    packed = shipped.pack(shippable.decorated.__wrapped__)
    assert packed.code.startswith("def decorated(n):")
    assert shipped.load(packed.key, packed.name, packed.code)(4) == 8


def test_a_traceback_from_shipped_code_quotes_its_lines():
    packed = shipped.pack(shippable.fails)
    with pytest.raises(ValueError) as failed:
        shipped.load(packed.key, packed.name, packed.code)(1)
    text = "".join(traceback.format_exception(failed.value))
    assert 'raise ValueError(f"no {x}")' in text and "<shipped fails" in text


@pytest.mark.parametrize("func, says", [
    (lambda: 1, "a lambda cannot travel"),
    (shippable.make_closure(3), "is a closure (it uses k"),
    (len, "is not a Python function"),
    (shippable.Thing().method, "is a bound method"),
    (shippable.uses_the_module, "uses names of its module (os)"),
    (shippable.decorated, "is not a Python function"),
    (eval("lambda x: x"), "a lambda"),
])
def test_what_cannot_travel_is_refused_in_one_line(func, says):
    with pytest.raises(BadInput, match=r"^[^\n]*$") as refused:
        shipped.pack(func)
    assert says in str(refused.value)


def test_a_function_defined_in_a_repl_is_refused():
    namespace = {}
    exec("def typed_at_a_prompt():\n    return 1\n", namespace)
    with pytest.raises(BadInput, match="its source cannot be read"):
        shipped.pack(namespace["typed_at_a_prompt"])
