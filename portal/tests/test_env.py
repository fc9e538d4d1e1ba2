"""Strict parsing of configuration: a bad value stops start-up with a message naming the variable."""

from __future__ import annotations

import pytest

from portal.env import ConfigurationError, Env


def test_it_reads_the_process_environment_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_TEST_ENV_VALUE", "from os.environ")
    assert Env().str("PORTAL_TEST_ENV_VALUE") == "from os.environ"


class TestStr:
    def test_it_returns_the_value_without_surrounding_whitespace(self) -> None:
        assert Env({"NAME": "  portal \n"}).str("NAME") == "portal"

    def test_it_returns_the_default_when_unset(self) -> None:
        assert Env({}).str("NAME", "fallback") == "fallback"

    def test_it_treats_a_blank_value_as_unset(self) -> None:
        assert Env({"NAME": "   "}).str("NAME", "fallback") == "fallback"

    def test_it_names_a_required_variable_that_is_missing(self) -> None:
        with pytest.raises(ConfigurationError, match=r"^NAME must be set$"):
            Env({}).str("NAME")

    def test_optional_str_is_none_when_unset_or_blank(self) -> None:
        assert Env({}).optional_str("NAME") is None
        assert Env({"NAME": ""}).optional_str("NAME") is None
        assert Env({"NAME": "x"}).optional_str("NAME") == "x"


class TestBool:
    @pytest.mark.parametrize("value", ["1", "true", "TRUE", "True", "yes", "on", " On "])
    def test_it_accepts_the_spellings_of_true(self, value: str) -> None:
        assert Env({"FLAG": value}).bool("FLAG", False) is True

    @pytest.mark.parametrize("value", ["0", "false", "FALSE", "no", "off", " Off "])
    def test_it_accepts_the_spellings_of_false(self, value: str) -> None:
        assert Env({"FLAG": value}).bool("FLAG", True) is False

    @pytest.mark.parametrize("default", [True, False])
    def test_it_returns_the_default_when_unset_or_blank(self, default: bool) -> None:
        assert Env({}).bool("FLAG", default) is default
        assert Env({"FLAG": " "}).bool("FLAG", default) is default

    @pytest.mark.parametrize("value", ["flase", "treu", "2", "y", "enabled", "-1"])
    def test_it_rejects_anything_else_naming_the_variable_and_the_value(self, value: str) -> None:
        with pytest.raises(ConfigurationError) as raised:
            Env({"DJANGO_DEBUG": value}).bool("DJANGO_DEBUG", False)
        message = str(raised.value)
        assert message.startswith("DJANGO_DEBUG ")
        assert repr(value) in message


class TestInt:
    def test_it_parses_an_integer(self) -> None:
        assert Env({"SECONDS": " 600 "}).int("SECONDS", 1) == 600

    def test_it_accepts_a_negative_integer_without_a_minimum(self) -> None:
        assert Env({"OFFSET": "-5"}).int("OFFSET", 0) == -5

    def test_it_returns_the_default_when_unset(self) -> None:
        assert Env({}).int("SECONDS", 300) == 300

    @pytest.mark.parametrize("value", ["ten", "1.5", "0x10", "1e3", "12s"])
    def test_it_rejects_a_non_integer_naming_the_variable(self, value: str) -> None:
        with pytest.raises(ConfigurationError, match=r"^PORTAL_SESSION_SECONDS must be an integer; got "):
            Env({"PORTAL_SESSION_SECONDS": value}).int("PORTAL_SESSION_SECONDS", 3600)

    def test_it_rejects_a_value_below_the_minimum(self) -> None:
        with pytest.raises(ConfigurationError, match=r"^PORTAL_STEP_UP_SECONDS must be at least 30; got 29$"):
            Env({"PORTAL_STEP_UP_SECONDS": "29"}).int("PORTAL_STEP_UP_SECONDS", 300, minimum=30)

    def test_it_accepts_the_minimum_itself(self) -> None:
        assert Env({"N": "30"}).int("N", 300, minimum=30) == 30

    def test_the_minimum_does_not_apply_to_the_default(self) -> None:
        assert Env({}).int("N", 5, minimum=30) == 5


class TestList:
    def test_it_splits_on_commas_and_strips_items(self) -> None:
        env = Env({"HOSTS": " a.example.com, b.example.com ,c "})
        assert env.list("HOSTS") == ["a.example.com", "b.example.com", "c"]

    def test_it_drops_empty_items(self) -> None:
        assert Env({"HOSTS": "a,,b,"}).list("HOSTS") == ["a", "b"]

    def test_it_returns_a_copy_of_the_default_when_unset(self) -> None:
        default = ["localhost"]
        value = Env({}).list("HOSTS", default)
        assert value == ["localhost"]
        value.append("changed")
        assert default == ["localhost"]

    def test_it_returns_an_empty_list_without_a_default(self) -> None:
        assert Env({}).list("HOSTS") == []


class TestChoice:
    CHOICES = ("debug", "info", "warning")

    def test_it_accepts_one_of_the_choices(self) -> None:
        assert Env({"LEVEL": "warning"}).choice("LEVEL", "info", self.CHOICES) == "warning"

    def test_it_returns_the_default_when_unset(self) -> None:
        assert Env({}).choice("LEVEL", "info", self.CHOICES) == "info"

    def test_it_rejects_another_value_listing_the_choices(self) -> None:
        with pytest.raises(ConfigurationError) as raised:
            Env({"LEVEL": "verbose"}).choice("LEVEL", "info", self.CHOICES)
        assert str(raised.value) == "LEVEL must be one of debug, info, warning; got 'verbose'"

    def test_choices_are_case_sensitive(self) -> None:
        with pytest.raises(ConfigurationError, match=r"^LEVEL "):
            Env({"LEVEL": "INFO"}).choice("LEVEL", "info", self.CHOICES)


def test_configuration_error_is_a_runtime_error() -> None:
    # Management commands and WSGI servers print a RuntimeError's message and stop.
    assert issubclass(ConfigurationError, RuntimeError)


class TestGroupMap:
    ROLES = ("Requester", "Approver", "Administrator")

    def parse(self, value: str) -> dict[str, tuple[str, ...]]:
        return Env({"MAP": value}).group_map("MAP", self.ROLES)

    def test_it_reads_the_short_form(self) -> None:
        assert self.parse("aws-approvers=Approver; aws-admins=Administrator;aws-admins=Approver") == {
            "aws-approvers": ("Approver",),
            "aws-admins": ("Administrator", "Approver"),
        }

    def test_a_group_name_may_hold_an_equals_sign(self) -> None:
        assert self.parse("CN=ops,OU=groups=Approver") == {"CN=ops,OU=groups": ("Approver",)}

    def test_it_reads_json(self) -> None:
        assert self.parse('{"a": "Approver", "b": ["Requester", "Administrator"]}') == {
            "a": ("Approver",),
            "b": ("Requester", "Administrator"),
        }

    def test_unset_is_an_empty_mapping(self) -> None:
        assert Env({}).group_map("MAP", self.ROLES) == {}

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("aws-approvers=Approvers", r"^MAP: 'Approvers' \(for group 'aws-approvers'\) is not one of"),
            ("aws-approvers", r"^MAP: entry 1 must look like group=Role$"),
            ("=Approver", r"^MAP: a group name is empty$"),
            ('{"a": 1}', r"^MAP: the roles of group 'a' must be a string or a list$"),
            ('{"a": "Approver"', r"^MAP is not valid JSON$"),
            ('{"a": "Auditor"}', r"^MAP: 'Auditor' \(for group 'a'\) is not one of"),
        ],
    )
    def test_a_bad_value_stops_start_up_naming_the_variable(self, value: str, message: str) -> None:
        with pytest.raises(ConfigurationError, match=message):
            self.parse(value)
