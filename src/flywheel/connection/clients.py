"""Building the botocore DynamoDB client behind a connection.

The options a caller may pass to ``connect_to_*`` fall in three groups: flywheel's own retry
settings (given to :class:`DynamoDBConnection`), ``create_client`` arguments (endpoint,
session token, TLS verification), and everything else, which goes to botocore's ``Config``
(``connect_timeout``, ``max_pool_connections``, ``proxies``...).
"""
from __future__ import annotations

import ipaddress
import logging
from typing import Any

import botocore.credentials
import botocore.configprovider
import botocore.exceptions
import botocore.session
from botocore.config import Config

LOG = logging.getLogger("flywheel")

#: Keyword arguments of ``DynamoDBConnection.__init__`` accepted by the ``connect_to_*``
#: constructors.
CONNECTION_OPTIONS = frozenset(
    {
        "max_attempts",
        "backoff_base",
        "backoff_cap",
        "retry_deadline",
        "table_wait_timeout",
        "transport",
        "batch_concurrency",
    }
)

#: flywheel retries by itself (errors.py); botocore retrying as well would multiply the
#: attempts and hide them from us. 'legacy' mode, because with a single attempt it still
#: raises ChecksumError on a corrupt DynamoDB response (so that we can retry it), where
#: 'standard' mode silently accepts the body.
NO_BOTOCORE_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "legacy"})

#: A refused or unreachable server must fail fast; a slow page of a Query on a local server
#: still has time to arrive. Both can be overridden per connection. flywheel builds every
#: request itself, so botocore's schema walk over each request (about 40% of client CPU on a
#: batch write) is skipped; the server still validates everything.
DEFAULT_CONFIG = Config(connect_timeout=5, read_timeout=8, parameter_validation=False)

#: Credentials signed into requests to a local server that has no use for real ones.
DUMMY_ACCESS_KEY = "flywheel-local"
DUMMY_SECRET_KEY = "flywheel-local-secret"


def split_options(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Split ``connect_to_*`` keyword arguments into (connection, client, Config) options."""
    connection_options: dict[str, Any] = {}
    client_options: dict[str, Any] = {}
    config_options: dict[str, Any] = {}
    for name, value in kwargs.items():
        if name in CONNECTION_OPTIONS:
            connection_options[name] = value
        elif name in ("config", "endpoint_url", "session_token", "verify", "api_version"):
            client_options[name] = value
        else:
            config_options[name] = value
    return connection_options, client_options, config_options


def build_config(user_config: Config | None, config_options: dict[str, Any]) -> Config:
    """Merge our defaults, the caller's ``Config`` and loose Config options; retries stay off."""
    config = DEFAULT_CONFIG
    if user_config is not None:
        config = config.merge(user_config)
    if config_options:
        # Config(**options) raises TypeError naming any option botocore does not know.
        config = config.merge(Config(**config_options))
    return config.merge(NO_BOTOCORE_RETRIES)


def has_configured_credentials(session: botocore.session.Session) -> bool:
    """Whether ``session`` finds credentials without asking a metadata service.

    The EC2 / container metadata lookups are left out: on a developer machine they can take
    seconds to time out, and they never configure credentials meant for a local server.
    """
    try:
        # building the resolver reads the profile: AWS_PROFILE naming no profile raises here
        resolver = botocore.credentials.create_credential_resolver(session)
        resolver.remove("container-role")
        resolver.remove("iam-role")
        return resolver.load_credentials() is not None
    except Exception as exc:  # noqa: BLE001 - a broken profile must not stop a local connection
        LOG.debug("no usable credentials configured for the local server (%s)", type(exc).__name__)
        return False


def create_client(
    *,
    region: str | None,
    session: botocore.session.Session | None,
    access_key: str | None,
    secret_key: str | None,
    client_options: dict[str, Any],
    config_options: dict[str, Any],
    dummy_credentials: bool = False,
) -> Any:
    """Create a botocore DynamoDB client with botocore's retries disabled.

    With ``dummy_credentials``, a session that has no credentials configured signs with
    placeholder ones (local servers check the signature's shape, not the key).
    """
    if (access_key is None) != (secret_key is None):
        raise ValueError("give both access_key and secret_key, or neither")
    if session is None:
        session = botocore.session.get_session()
        if dummy_credentials:
            try:
                session.get_scoped_config()
            except botocore.exceptions.ProfileNotFound as exc:
                # AWS_PROFILE names no profile: it cannot be meant for a local server
                LOG.debug("ignoring %s for a local server", exc)
                session.get_component("config_store").set_config_provider(
                    "profile", botocore.configprovider.ConstantProvider(None)
                )
    session_token = client_options.get("session_token")
    if access_key is None and dummy_credentials and not has_configured_credentials(session):
        access_key, secret_key, session_token = DUMMY_ACCESS_KEY, DUMMY_SECRET_KEY, None
    config = build_config(client_options.get("config"), config_options)
    return session.create_client(
        "dynamodb",
        region_name=region,
        api_version=client_options.get("api_version"),
        endpoint_url=client_options.get("endpoint_url"),
        verify=client_options.get("verify"),
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        aws_session_token=session_token,
        config=config,
    )


def host_endpoint_url(host: str, port: int, is_secure: bool) -> str:
    """The endpoint URL for ``host``; a host given as a full URL is used as it is."""
    if "://" in host:
        return host.rstrip("/")
    scheme = "https" if is_secure else "http"
    if not host or any(c in host for c in "/?#@ \t"):
        raise ValueError(
            f"host {host!r} is not a host name or an IP address; to give a path or other URL "
            f"parts, pass the whole URL ('http://...')"
        )
    if ":" in host and not host.startswith("["):
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(
                f"host {host!r} is neither a host name nor an IP address; give the port "
                f"separately or pass a URL such as 'http://{host}'"
            ) from None
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


def retries_disabled(client: Any) -> bool:
    """Whether a client was built with botocore's retries off (a single attempt)."""
    retries = getattr(client.meta.config, "retries", None) or {}
    if "total_max_attempts" in retries:
        return bool(retries["total_max_attempts"] <= 1)
    if "max_attempts" in retries:
        return bool(retries["max_attempts"] <= 0)
    return False
