"""API keys and personal tokens (contract section 1): the one writer of the
key model, and the lookup the API's bearer authentication uses.

A key reads ``<prefix>.<secret>``: the prefix finds the row, the SHA-256 of the
whole key proves it. Only the hash is stored; the key is shown once."""

import hashlib
import hmac
import secrets

from django.db import transaction
from django.utils import timezone

from integrations.models import ApiKey, Scope
from opsconsole import audit


def hash_key(raw):
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def lookup_key(raw):
    """The active ApiKey for ``raw``, or None. Keys look like ``<prefix>.<secret>``."""
    prefix = raw.split(".", 1)[0]
    if not prefix or len(prefix) > 32:
        return None
    key = ApiKey.objects.select_related("user", "tenant").filter(prefix=prefix).first()
    if key is None or key.revoked_at is not None:
        return None
    if not hmac.compare_digest(key.key_hash, hash_key(raw)):
        return None
    return key


def authenticate(raw):
    """``lookup_key``, noting when the key was last used (at most once a
    minute: keeps the hot ingest path to one write). The API's bearer
    authentication calls this (``settings.OPSCONSOLE_KEY_LOOKUP``)."""
    key = lookup_key(raw)
    if key is None:
        return None
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def _new_raw_key():
    prefix = "ok_" + secrets.token_hex(6)
    return prefix, f"{prefix}.{secrets.token_urlsafe(32)}"


@transaction.atomic
def create_key(*, name, tenant=None, user=None, scopes=None, actor=None):
    """Create a tenant key (``scopes``, default ingest) or a user's personal
    token; return (ApiKey, raw key)."""
    if (tenant is None) == (user is None):
        raise ValueError("A key belongs to exactly one tenant or one user.")
    if tenant is not None:
        scopes = sorted(set(scopes or [Scope.INGEST]))
        unknown = [s for s in scopes if s not in Scope.values]
        if unknown:
            raise ValueError(f"unknown scope {unknown[0]!r} (use ingest or read)")
    else:
        scopes = []
    prefix, raw = _new_raw_key()
    key = ApiKey.objects.create(
        tenant=tenant, user=user, name=name, prefix=prefix, key_hash=hash_key(raw), scopes=scopes
    )
    audit.record(
        actor,
        "apikey.create",
        tenant=tenant,
        partner=tenant.partner if tenant else user.partner,
        obj=key,
        summary=f"Created {'key' if tenant else 'personal token'} {name!r} ({prefix})",
        data={"name": name, "prefix": prefix, "scopes": scopes, "user": user.email if user else None},
    )
    return key, raw


@transaction.atomic
def revoke_key(raw_or_prefix, *, actor=None):
    """Revoke by the whole key or its prefix; return the key, or None if unknown."""
    prefix = raw_or_prefix.strip().split(".", 1)[0]
    key = ApiKey.objects.select_for_update().filter(prefix=prefix).first()
    if key is None:
        return None
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit.record(
            actor,
            "apikey.revoke",
            tenant=key.tenant,
            partner=key.tenant.partner if key.tenant_id else key.user.partner,
            obj=key,
            summary=f"Revoked {key.name!r} ({key.prefix})",
            data={"name": key.name, "prefix": key.prefix},
        )
    return key
