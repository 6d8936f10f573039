import pytest

from opsconsole.lib.email_url import parse_email_url


def test_it_reads_an_smtp_url_with_starttls():
    config = parse_email_url("smtp+tls://alerts%40northwind.example:s3cr%2Ft@mail.example:2587")
    assert config["EMAIL_BACKEND"].endswith("smtp.EmailBackend")
    assert config["EMAIL_HOST"] == "mail.example"
    assert config["EMAIL_PORT"] == 2587
    assert config["EMAIL_HOST_USER"] == "alerts@northwind.example"
    assert config["EMAIL_HOST_PASSWORD"] == "s3cr/t"
    assert config["EMAIL_USE_TLS"] is True
    assert config["EMAIL_USE_SSL"] is False


def test_it_defaults_the_port_per_scheme():
    assert parse_email_url("smtps://mail.example")["EMAIL_PORT"] == 465
    assert parse_email_url("smtp://mail.example")["EMAIL_PORT"] == 25


def test_it_refuses_an_unknown_scheme():
    with pytest.raises(ValueError, match="unsupported scheme 'ftp'"):
        parse_email_url("ftp://mail.example")
