"""Agents (经办人) from a terminal: `delegate`, `delegations` and `revoke-delegation`
(registered by `api.cli`). Like grants, a delegation and its withdrawal are EIP-712 typed data
the vault prepares and the subject's key signs here, after checking it says what was asked."""

from __future__ import annotations

import argparse
from typing import Any

from api.cli.common import (
    ROLES,
    CliError,
    Login,
    agent_address,
    expect,
    logged_in,
    login_as,
    on_chain,
    print_json,
    say,
    window,
)
from api.cli.parsing import FROM, UNTIL, int_in, parse_types, parse_window, type_bits, type_names


def _subject_only(login: Login, doing: str) -> None:
    if login.role != "subject":
        raise CliError(
            f"{login.name!r} is {ROLES.get(login.role, login.role)}; only the citizen's or enterprise's own key {doing}"
        )


def cmd_delegate(args: argparse.Namespace) -> int:
    types = parse_types(args.types)
    start, until = parse_window(args.until, args.from_, "delegation")
    agent = agent_address(args.datadir, args.agent)
    body: dict[str, Any] = {"agent": agent, "record_types": types, "expires_at": until}
    if start is not None:
        body["not_before"] = start
    with logged_in(args) as login:
        _subject_only(login, "appoints agents")
        typed = login.post("/me/delegations/prepare", body)["typed_data"]
        asked = {"subject": login.id, "agent": agent, "recordTypes": type_bits(types), "expiresAt": until}
        m = expect(typed, "Delegation", {**asked, **({"notBefore": start} if start is not None else {})})
        named = "" if args.agent == agent else f" (keystore entry {args.agent})"
        say(
            "\n".join(
                [
                    login.signing("a delegation"),
                    f"  agent    {m['agent']}{named}",
                    f"  subject  {m['subject']}",
                    f"  types    {type_names(int(m['recordTypes']))}: it may grant and revoke access to these for you",
                    f"  window   {window(int(m['notBefore']), int(m['expiresAt']))}",
                    on_chain(typed),
                ]
            )
        )
        result = login.post("/me/delegations", {"message": m, "signature": login.key.sign_typed_data(typed)})
    print_json(result)
    return 0


def cmd_delegations(args: argparse.Namespace) -> int:
    with logged_in(args) as login:
        # An agent or guardian learns whom it acts for; a subject, whom it appointed.
        print_json(login.get("/me/acting-for" if login.role == "delegate" else "/me/delegations"))
    return 0


def cmd_revoke_delegation(args: argparse.Namespace) -> int:
    with logged_in(args) as login:
        _subject_only(login, "withdraws an agent")
        delegation = next((d for d in login.get("/me/delegations") if d["id"] == args.delegation), None)
        if delegation is None:
            raise CliError(f"delegation not found: {args.delegation}")
        if delegation["status"] not in ("pending", "active"):
            raise CliError(f"delegation {args.delegation} is already {delegation['status']}")
        typed = login.post(f"/me/delegations/{args.delegation}/revoke/prepare")["typed_data"]
        expect(typed, "DelegationRevocation", {"subject": login.id, "agent": delegation["agent"]})
        say(
            "\n".join(
                [
                    login.signing("the withdrawal of an agent"),
                    f"  agent    {delegation['agent']} (delegation {delegation['id']}, {delegation['status']})",
                    f"  types    {', '.join(delegation['record_types'])}",
                    "  effect   at once: the agent can sign nothing more for you",
                    on_chain(typed),
                ]
            )
        )
        result = login.post(
            f"/me/delegations/{args.delegation}/revoke", {"signature": login.key.sign_typed_data(typed)}
        )
    print_json(result)
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dg = sub.add_parser("delegate", help="appoint an agent (经办人) to grant and revoke for you (you sign it)")
    login_as(dg, "the subject's key (an enterprise's: its legal representative's)")
    dg.add_argument("--agent", required=True, help="the agent's address, or a keystore entry")
    dg.add_argument("--types", required=True, help="record types it may act on, comma-separated")
    dg.add_argument("--until", required=True, metavar="WHEN", help=UNTIL)
    dg.add_argument("--from", dest="from_", metavar="WHEN", help=FROM)
    dg.set_defaults(func=cmd_delegate)

    dl = sub.add_parser("delegations", help="a subject's agents, or the subjects an agent acts for")
    login_as(dl, "a subject's or an agent's key")
    dl.set_defaults(func=cmd_delegations)

    rv = sub.add_parser("revoke-delegation", help="withdraw an agent; takes effect at once (you sign it)")
    login_as(rv, "the subject's key")
    rv.add_argument("delegation", type=int_in(1, 2**63 - 1), help="delegation id, as `delegations` lists them")
    rv.set_defaults(func=cmd_revoke_delegation)
