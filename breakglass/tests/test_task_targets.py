"""``breakglass.task_targets``: the bucket and queue an AssumeRoot unlock task acts on (pure)."""

from __future__ import annotations

import pytest

from breakglass.task_targets import bucket_name_problem, queue_region, queue_url_problem

ACCOUNT = "123456789012"


@pytest.mark.parametrize("name", ["orders-archive", "abc", "a.b-c.d1", "x" * 63])
def test_a_valid_bucket_name_is_accepted(name: str) -> None:
    assert bucket_name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("", "Give the name of the bucket"),
        ("ab", "3 to 63"),
        ("x" * 64, "3 to 63"),
        ("Orders", "lower-case"),
        ("s3://orders", "lower-case"),
        ("arn:aws:s3:::orders", "lower-case"),
        ("-orders", "lower-case"),
        ("orders..archive", "two dots"),
        ("orders.-archive", "two dots"),
        ("192.168.5.4", "IP address"),
        ("xn--orders", "reserves"),
        ("orders-s3alias", "reserves"),
    ],
)
def test_a_bad_bucket_name_is_refused_with_the_reason(name: str, says: str) -> None:
    problem = bucket_name_problem(name)
    assert problem is not None
    assert says in problem


@pytest.mark.parametrize(
    "url",
    [
        f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/orders",
        f"https://sqs.us-gov-west-1.amazonaws.com/{ACCOUNT}/orders.fifo",
        f"https://sqs.cn-north-1.amazonaws.com.cn/{ACCOUNT}/orders_2",
        f"https://eu-west-1.queue.amazonaws.com/{ACCOUNT}/orders",
    ],
)
def test_a_queue_url_of_the_account_is_accepted(url: str) -> None:
    assert queue_url_problem(url, ACCOUNT) is None


def test_a_queue_of_another_account_is_refused_naming_both_accounts() -> None:
    problem = queue_url_problem("https://sqs.eu-west-1.amazonaws.com/210987654321/orders", ACCOUNT)
    assert problem is not None
    assert "210987654321" in problem
    assert ACCOUNT in problem


@pytest.mark.parametrize(
    "url",
    [
        "",
        "orders",
        f"http://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/orders",
        f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/",
        f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/orders/extra",
        f"https://sqs.eu-west-1.evil.example/{ACCOUNT}/orders",
        f"arn:aws:sqs:eu-west-1:{ACCOUNT}:orders",
        f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/" + "q" * 81,
    ],
)
def test_anything_but_a_queue_url_is_refused(url: str) -> None:
    assert queue_url_problem(url, ACCOUNT) is not None


def test_the_region_is_read_from_either_form_of_url() -> None:
    assert queue_region(f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/orders") == "eu-west-1"
    assert queue_region(f"https://ap-southeast-2.queue.amazonaws.com/{ACCOUNT}/orders") == "ap-southeast-2"
    assert queue_region("nonsense") == ""
