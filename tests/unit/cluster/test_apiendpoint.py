"""The API endpoint holder: empty until an API server publishes, listeners told of changes."""

from __future__ import annotations

from sandbox.cluster.apiendpoint import ApiEndpoint


def test_it_serves_between_publish_and_withdraw_and_keeps_the_ca():
    endpoint = ApiEndpoint()
    assert not endpoint.serving
    endpoint.publish(host="127.0.0.1", port=6443, ca_crt=b"CA")
    assert endpoint.serving
    assert (endpoint.host, endpoint.port) == ("127.0.0.1", 6443)
    endpoint.withdraw()
    assert not endpoint.serving
    assert endpoint.ca_crt == b"CA"


def test_listeners_hear_every_change_and_a_failing_one_does_not_stop_the_others():
    endpoint = ApiEndpoint()
    heard: list[bool] = []

    def broken() -> None:
        raise RuntimeError("boom")

    endpoint.add_listener(broken)
    endpoint.add_listener(lambda: heard.append(endpoint.serving))
    endpoint.publish(host="127.0.0.1", port=6443, ca_crt=b"CA")
    endpoint.withdraw()
    assert heard == [True, False]
