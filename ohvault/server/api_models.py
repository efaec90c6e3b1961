"""Request and response bodies of the sync API (they define the OpenAPI document)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
# Non-empty, canonical base64 (so a schema-valid payload always decodes).
B64_PATTERN = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$"
MAX_B64 = 64 * 1024 * 1024
MAX_SEQ = 2**53 - 1  # exact in every JSON implementation


def _json_int(value: Any) -> Any:
    # JSON Schema's integer: 5 and 5.0 yes; true, "5" and 5.5 no (pydantic's lax mode says yes).
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be an integer")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("must be an integer")
        return int(value)
    return value


JsonInt = Annotated[int, BeforeValidator(_json_int)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorDetail(BaseModel):
    code: str = Field(description="stable machine-readable code, e.g. `stale`, `token_expired`")
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class HealthOut(BaseModel):
    status: str
    version: str | None = None
    schema_version: int | None = None


class RegisterIn(Strict):
    username: str = Field(min_length=3, max_length=200, pattern=r"^[^\s].*[^\s]$")
    password: str = Field(min_length=10, max_length=1024)


class PasswordChangeIn(Strict):
    password: str = Field(min_length=1, max_length=1024, description="the current password")
    new_password: str = Field(min_length=10, max_length=1024)


class AccountDeleteIn(Strict):
    password: str = Field(min_length=1, max_length=1024, description="the current password")


class AccountOut(BaseModel):
    account_id: str


class LoginIn(Strict):
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024)
    device_name: str = Field(default="device", min_length=1, max_length=100)
    device_id: str | None = Field(
        default=None, pattern=UUID_PATTERN, description="reuse this device's registration"
    )


class RefreshIn(Strict):
    refresh_token: str = Field(min_length=16, max_length=200)


class TokensOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
    refresh_expires_in: int
    account_id: str
    device_id: str


class DeviceOut(BaseModel):
    device_id: str
    name: str
    created_at: int
    last_seen_at: int
    revoked: bool
    current: bool


class VaultOut(BaseModel):
    vault_id: str
    head: int = Field(description="sequence number of the newest bundle")
    snapshot_seq: int = Field(description="bundles up to here were compacted into a snapshot")
    snapshot_id: str | None
    bundle_count: int
    bytes_used: int
    quota_bytes: int
    quota_bundles: int


class PushIn(Strict):
    bundle_id: str = Field(pattern=UUID_PATTERN, description="client-chosen; retries reuse it")
    base_seq: JsonInt = Field(
        ge=0, le=MAX_SEQ, description="the newest sequence the client has merged"
    )
    payload: str = Field(max_length=MAX_B64, pattern=B64_PATTERN, description="base64 ciphertext")


class PushOut(BaseModel):
    seq: int
    duplicate: bool
    head: int


class BundleOut(BaseModel):
    seq: int
    bundle_id: str
    device_id: str
    created_at: int
    payload: str


class PullOut(BaseModel):
    bundles: list[BundleOut]
    head: int
    more: bool


class PayloadIn(Strict):
    payload: str = Field(max_length=MAX_B64, pattern=B64_PATTERN)


class PayloadOut(BaseModel):
    payload: str


class SnapshotCommitIn(Strict):
    upto_seq: JsonInt = Field(ge=1, le=MAX_SEQ)
    parts: JsonInt = Field(ge=1, le=100_000)


class SnapshotOut(BaseModel):
    snapshot_id: str
    upto_seq: int
    parts: int
    size: int


class PairingIn(Strict):
    pairing_id: str = Field(pattern=r"^[A-Za-z0-9]{8,64}$")
    vault_id: str = Field(pattern=UUID_PATTERN)
    payload: str = Field(max_length=65536, pattern=B64_PATTERN)


class PairingOut(BaseModel):
    vault_id: str
    payload: str
