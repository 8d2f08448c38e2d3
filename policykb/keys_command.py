"""``policykb keys``: create, list and revoke the service's API keys (``KB_DIR/keys.sqlite``).

A key is printed once, when it is created; only its hash is kept (``service.keys``).
Anonymous callers may ask and give feedback; reading the analyst view needs
``analytics:read``, changing documents ``documents:write``, and ``admin`` may do everything.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from policykb.options import kb_option
from service.keys import SCOPES, KeyRequestError, KeyRing


@click.group()
def keys_group() -> None:
    """API keys for the HTTP service (sent as Authorization: Bearer KEY)."""


@keys_group.command("create")
@kb_option
@click.option("--name", required=True, help="Who or what the key is for, e.g. analyst-wang or widget-site.")
@click.option("--scopes", required=True, help=f"Comma-separated: {', '.join(SCOPES)}.")
def create(kb_dir: Path, name: str, scopes: str) -> None:
    """Create a key and print it once: it is not stored and cannot be shown again."""
    if not (kb_dir / "kb.sqlite").exists():
        raise click.ClickException(f"no knowledge base at {kb_dir}")
    try:
        key = KeyRing.beside(kb_dir).create(name, scopes)
    except KeyRequestError as error:
        raise click.ClickException(str(error)) from None
    click.echo(key)
    click.echo(f"key {name!r} created; it is shown only this once: keep it somewhere safe", err=True)


@keys_group.command("revoke")
@kb_option
@click.argument("name")
def revoke(kb_dir: Path, name: str) -> None:
    """Revoke a key by name; it stops working at once."""
    if not KeyRing.beside(kb_dir).revoke(name):
        raise click.ClickException(f"no live key named {name!r}")
    click.echo(f"key {name!r} revoked")


@keys_group.command("list")
@kb_option
@click.option("--json", "as_json", is_flag=True)
def list_keys(kb_dir: Path, as_json: bool) -> None:
    """The keys by name, with their scopes and dates (never the keys themselves)."""
    keys = [key.as_dict() for key in KeyRing.beside(kb_dir).list()]
    if as_json:
        click.echo(json.dumps(keys, ensure_ascii=False, indent=2))
        return
    for key in keys:
        state = f"revoked {key['revoked_at']}" if key["revoked_at"] else "live"
        click.echo(f"{key['name']}\t{','.join(key['scopes'])}\t{key['created_at']}\t{state}")
