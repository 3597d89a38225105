"""``reported-claims show CLAIM_ID``: one claim in the terminal, or as JSON for scripts."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Optional

import click



def _node(n: dict) -> str:
    bits = [b for b in (n["kind"], n["published"]) if b]
    return f"{n['id']} ({', '.join(bits)})" if bits else n["id"]


def _change(d: dict, source: str) -> str:
    where = f"{d['quantity_id']}." if d["quantity_id"] else ""
    first = f"; first in {d['first_source_id']}" if d["first_source_id"] != source else ""
    return (f"{d['kind']} {where}{d['field']}: {d['before'] or '(none)'} → {d['after'] or '(none)'}"
            f" (compared with {d['compared_with']}{first})")


def _head(c: dict) -> list[str]:
    facts = [f"{k}: {c[k]}" for k in ("act", "topic", "status", "made", "period") if c[k]]
    lines = [c["id"], c["statement"], "   ".join(facts)]
    if c["items"]:
        lines.append("items: " + ", ".join(c["items"]))
    lines.append("claimants:")
    for x in c["claimants"]:
        via = f", in {x['via']}" if x["via"] else ""
        desc = f": {x['description']}" if x["description"] else ""
        lines.append(f"  - {x['name']} ({x['entity']}), {x['attribution']}{desc}{via}")
    for q in c["quantities"]:
        lines.append(f"quantity {q['id']}: {q['text']} ({q['measure']})")
    lines.append(f"origins: {c['origin_count']} ({', '.join(c['origins'])})")
    return lines


def _plain(c: dict, tree: list) -> str:
    lines = _head(c) + ["", "lineage (primary sources first):"]
    for prefix, node, relation, repeated in tree:
        mark = (" [reports]" if node["reports"] else "") + (" (see above)" if repeated else "")
        lines.append(f"  {prefix}{relation + ' → ' if relation else ''}{_node(node)}{mark}")
    for i, r in enumerate(c["reports"], 1):
        counted = "" if r["counted"] else ", not counted"
        who = r["attributed_to"] or "(the writer's own voice)"
        lines += ["", f"report {i}: {_node(r['source'])}, fit {r['fit']}{counted}; {r['attribution_mode']}: {who}"]
        quote = "".join(f"«{s['text']}»" if s["kinds"] else s["text"] for s in r["segments"])
        lines.append(f'  "{quote}"')
        lines += [f"  * {_change(d, r['source']['id'])}" for d in r["drifts"]]
    return "\n".join(lines)


def _rich(console, c: dict, tree: list) -> None:
    from rich.text import Text
    from rich.tree import Tree

    head = _head(c)
    console.print(Text(head[0], style="dim"))
    console.print(Text(head[1], style="bold"))
    for line in head[2:]:
        console.print(line, markup=False, highlight=False)
    root = Tree("lineage (primary sources first)")
    stack: list = []
    for prefix, node, relation, repeated in tree:
        depth = len(prefix) // 4
        label = Text()
        if relation:
            label.append(relation + " → ", style="cyan")
        label.append(_node(node), style="bold" if node["reports"] else "")
        if repeated:
            label.append(" (see above)", style="dim")
        parent = root if depth == 0 else stack[depth - 1]
        del stack[depth:]
        stack.append(parent.add(label))
    console.print(root)
    for i, r in enumerate(c["reports"], 1):
        counted = "" if r["counted"] else ", not counted"
        who = r["attributed_to"] or "(the writer's own voice)"
        console.print(Text(f"\nreport {i}: {_node(r['source'])}, fit {r['fit']}{counted}; "
                           f"{r['attribution_mode']}: {who}", style="bold"))
        quote = Text("  “")
        for s in r["segments"]:
            quote.append(s["text"], style="black on yellow" if s["kinds"] else "")
        quote.append("”")
        console.print(quote)
        for d in r["drifts"]:
            console.print(Text("  * " + _change(d, r["source"]["id"]), style="yellow"))


@click.command("show")
@click.argument("claim_id")
@click.option("--json", "as_json", is_flag=True, help="Print the claim as JSON, in a stable shape for scripts.")
@click.option("--repo", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Repository folder (the one holding records/); without it, the current folder if it is "
                   "one, else the installed package's data.")
def show(claim_id: str, as_json: bool, repo: Optional[Path]):
    """Show one claim: statement, claimants, the lineage from the primary sources to each
    report, each report's quote with its differences marked, and its origins.

    \b
    Example:
        reported-claims show clm-china-share-russian-microelectronics-2023
        reported-claims show clm-china-share-russian-microelectronics-2023 --json | jq .origin_count
    """
    from reported_claims.site.data import open_records
    from reported_claims.site.summary import close_ids, describe, tree_lines

    records = open_records(repo)
    claim = records.claims.get(claim_id)
    if claim is None:
        close = close_ids(list(records.claims), claim_id)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        click.echo(f"reported-claims: no claim {claim_id!r} in {records.origin}{hint}", err=True)
        sys.exit(1)
    described = describe(records, claim)
    if as_json:
        click.echo(json.dumps(described, ensure_ascii=False, indent=2, sort_keys=True))
        return
    tree = tree_lines(described)
    if importlib.util.find_spec("rich") is None:  # the site extra brings it; plain text without
        console = None
    else:
        from rich.console import Console

        console = Console(soft_wrap=False)
    if console is not None and console.is_terminal:
        _rich(console, described, tree)
    else:
        click.echo(_plain(described, tree))
