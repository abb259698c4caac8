"""A node URL may carry a provider's API key; errors and logs show only where the node is."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.chain.rpc import HttpRpc, display_url
from ledger.deploy import deploy
from ledger.errors import ChainError
from ledger.settings import Settings


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
        ("http://127.0.0.1:8545/", "http://127.0.0.1:8545"),
        ("https://eth-mainnet.example.com/v2/k3yK3yK3y", "https://eth-mainnet.example.com/…"),
        ("https://rpc.example.org/?apikey=k3yK3yK3y", "https://rpc.example.org/…"),
        ("https://user:k3yK3yK3y@node.example.net:8443", "https://node.example.net:8443/…"),
    ],
)
def test_display_url_keeps_only_scheme_host_and_port(url: str, shown: str) -> None:
    assert display_url(url) == shown


def test_an_unreachable_node_error_names_the_host_but_not_the_key() -> None:
    rpc = HttpRpc("http://user:k3yK3yK3y@127.0.0.1:9/v2/k3yK3yK3y?apikey=k3yK3yK3y", timeout=0.5)
    with pytest.raises(ChainError) as caught:
        rpc.call("eth_blockNumber")
    assert "127.0.0.1:9" in str(caught.value)
    assert "k3y" not in str(caught.value) and caught.value.__cause__ is None
    rpc.close()


@pytest.mark.parametrize(
    ("rpc_url", "public_rpc_url", "offered"),
    [
        ("http://127.0.0.1:8545", None, "http://127.0.0.1:8545"),
        ("https://eth-mainnet.example.com/v2/k3yK3yK3y", None, ""),
        ("https://user:k3yK3yK3y@node.example.net", None, ""),
        (
            "https://eth-mainnet.example.com/v2/k3yK3yK3y",
            "https://rpc.city.example",
            "https://rpc.city.example",
        ),
    ],
)
def test_browsers_are_offered_the_node_url_only_when_it_holds_no_key(
    rpc_url: str, public_rpc_url: str | None, offered: str
) -> None:
    settings = Settings(env="test", rpc_url=rpc_url, public_rpc_url=public_rpc_url)
    assert settings.public_rpc == offered


def test_deploying_to_an_unreachable_node_does_not_name_the_key(tmp_path: Path) -> None:
    url = "http://user:k3yK3yK3y@127.0.0.1:9/v2/k3yK3yK3y"
    settings = Settings(env="test", rpc_url=url, data_dir=tmp_path)  # type: ignore[arg-type]
    with pytest.raises(ChainError) as caught:
        deploy(settings)
    assert "127.0.0.1:9" in str(caught.value) and "k3y" not in str(caught.value)
