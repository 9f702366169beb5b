"""`votewire simulate`'s arguments: a mistaken address is refused at once, not retried for ever."""

from __future__ import annotations

import argparse

import pytest

from ingest import simulate


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(exit_on_error=False)
    simulate.add_arguments(p)
    return p


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000", "ws://127.0.0.1:8000/", "ws://127.0.0.1:8000/ws/live"]
)
def test_an_address_that_is_not_the_bureau_socket_is_refused(url):
    with pytest.raises(argparse.ArgumentError, match="give the bureau socket"):
        parser().parse_args(["--url", url])


def test_the_bureau_socket_is_taken_as_given():
    for url in ("ws://127.0.0.1:8000/ws/bureau", "wss://votewire.vna.vn/ws/bureau"):
        assert parser().parse_args(["--url", url]).url == url
