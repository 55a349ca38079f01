"""The command line: ask the knowledge base, chat with it as the bot would, validate it, and measure the matcher."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot import __version__, languages
from bot.facts import DEFAULT_DIR, KnowledgeBase, KnowledgeError, load_knowledge, require_knowledge
from bot.matching import Match, Matcher
from bot.render import render_match

EVAL_DIR = Path(__file__).resolve().parent.parent / "eval"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="A sourced fact-check bot about the reported Chinese overseas police stations.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def knowledge_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--knowledge", metavar="DIR", type=Path, default=None,
                       help="the knowledge directory (default: $KNOWLEDGE_DIR or the bundled knowledge/)")

    ask = commands.add_parser("ask", help="answer a question (or one per line from standard input)")
    ask.add_argument("question", nargs="?", help="the question; omit it to read questions from standard input")
    ask.add_argument("--lang", help="preferred answer language when the question does not show one (en, zh-Hans...)")
    ask.add_argument("--json", action="store_true", help="print one JSON object per question")
    knowledge_option(ask)

    chat = commands.add_parser("chat", help="an interactive console that replies as the bot does in a private chat")
    chat.add_argument("--lang", help="preferred answer language")
    knowledge_option(chat)

    validate = commands.add_parser("validate", help="check the knowledge files and report every problem")
    validate.add_argument("directory", nargs="?", type=Path, default=None, help="default: the bundled knowledge/")

    run = commands.add_parser("run", help="run the Telegram bot (long polling); settings come from the environment")
    run.add_argument("--webhook", action="store_true",
                     help="receive updates on a webhook (WEBHOOK_URL, WEBHOOK_SECRET...) instead of long polling")

    i18n = commands.add_parser("i18n", help="check the interface translations (bot/locales/*.po)")
    i18n.add_argument("--update", action="store_true", help="add missing messages to every catalogue, empty")

    def database_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--database", metavar="PATH", type=Path, default=None,
                       help="the bot's database (default: $DATABASE_PATH or data/bot.sqlite3)")

    health = commands.add_parser(
        "health", help="exit 0 if the running bot is healthy (recent heartbeat: updates arriving, database writable)"
    )
    database_option(health)

    backup = commands.add_parser(
        "backup", help="copy the database consistently with SQLite's backup API (safe while the bot runs)"
    )
    backup.add_argument("file", metavar="FILE", type=Path, help="the copy to write (replaced if it exists)")
    database_option(backup)

    stats = commands.add_parser("stats", help="questions, answers, languages and votes for 7 and 30 days")
    database_option(stats)
    knowledge_option(stats)

    export_phrasings = commands.add_parser(
        "export-phrasings", help="write the phrasings moderators attached in the bot into the knowledge files"
    )
    database_option(export_phrasings)
    knowledge_option(export_phrasings)

    ev = commands.add_parser("eval", help="measure the matcher on question sets (default: the development sets, "
                                          "eval/dev*.yaml)")
    ev.add_argument("files", nargs="*", type=Path, help="question sets (YAML)")
    ev.add_argument("--tune", action="store_true", help="search the thresholds that fit the given error rates")
    ev.add_argument("--min-accuracy", type=float,
                    help="fail (exit 1) when any language, or all together, answers less of its in-scope right")
    ev.add_argument("--max-wrong", type=float, default=0.02, help="share of in-scope answered wrongly allowed")
    ev.add_argument("--max-oos", type=float, default=0.03, help="share of out-of-scope questions answered allowed")
    ev.add_argument("--quiet", action="store_true", help="print the table only, not each miss")
    knowledge_option(ev)

    def base_url_option(p: argparse.ArgumentParser) -> None:
        from bot.site import DEFAULT_BASE_URL

        p.add_argument("--base-url", metavar="URL", default=None,
                       help=f"where the site is published, for page links (default: the placeholder {DEFAULT_BASE_URL}"
                            " and a reminder to set it)")

    export = commands.add_parser("export", help="export the knowledge base: ClaimReview JSON-LD, JSON or CSV")
    export.add_argument("--format", required=True, choices=("claimreview", "json", "csv"),
                        help="claimreview: schema.org ClaimReview per claim; json: everything; csv: entry x language")
    export.add_argument("--out", metavar="FILE", type=Path, default=None, help="write to FILE (default: stdout)")
    knowledge_option(export)
    base_url_option(export)

    site = commands.add_parser("site", help="build the static website (every language, with in-browser search)")
    site.add_argument("out_dir", metavar="OUT_DIR", type=Path, help="a new or empty directory, or an earlier build")
    knowledge_option(site)
    base_url_option(site)

    diff = commands.add_parser("diff", help="what an edit changes, entry by entry (two knowledge directories)")
    diff.add_argument("old", metavar="OLD_DIR", type=Path)
    diff.add_argument("new", metavar="NEW_DIR", type=Path)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "ask":
            return _ask(args)
        if args.command == "chat":
            return _chat(args)
        if args.command == "validate":
            return _validate(args.directory)
        if args.command == "eval":
            return _eval(args)
        if args.command == "run":
            return _run(args.webhook)
        if args.command == "health":
            return _health(args)
        if args.command == "backup":
            return _backup(args)
        if args.command == "i18n":
            return _i18n(args.update)
        if args.command == "stats":
            return _stats(args)
        if args.command == "export-phrasings":
            return _export_phrasings(args)
        if args.command == "export":
            return _export(args)
        if args.command == "site":
            return _site(args)
        if args.command == "diff":
            return _diff(args.old, args.new)
    except KnowledgeError as exc:
        print(f"The knowledge base has errors; run 'python -m bot validate':\n{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    _parser().print_help()
    return 0


def _knowledge_dir(option: Path | None) -> Path:
    import os

    if option is not None:
        return option
    env = os.environ.get("KNOWLEDGE_DIR")
    return Path(env) if env else DEFAULT_DIR


def _load(option: Path | None) -> tuple[KnowledgeBase, Matcher]:
    from bot.live import build_matcher

    kb = require_knowledge(_knowledge_dir(option))
    return kb, build_matcher(kb)


def match_json(match: Match, kb: KnowledgeBase) -> dict[str, Any]:
    """The JSON form of one answer (the shape ``ask --json`` prints)."""
    best = match.best
    entry = best.entry if best else None
    return {
        "question": match.question,
        "matched": best is not None,
        "status": match.status,
        "id": entry.id if entry else None,
        "kind": entry.kind if entry else None,
        "verdict": entry.verdict if entry else None,
        "score": best.score if best else (match.candidates[0].score if match.candidates else 0.0),
        "lang": match.lang,
        "title": entry.text("title", match.lang) if entry else None,
        "answer": entry.text("answer", match.lang) if entry else render_match(match, kb).text,
        "sources": [
            {"id": s.id, "title": s.title, "publisher": s.publisher, "url": s.url, "date": s.published}
            for s, _ in (kb.cited(entry) if entry else ())
        ],
        "alternatives": [{"id": c.entry.id, "score": c.score} for c in match.alternatives],
        "unknown_places": list(match.unknown_places),
        "knowledge_version": kb.version,
    }


def _ask(args: argparse.Namespace) -> int:
    kb, matcher = _load(args.knowledge)
    hint = languages.canonical(args.lang)
    questions = [args.question] if args.question is not None else (line.rstrip("\n") for line in sys.stdin)
    for question in questions:
        if not question.strip():
            continue
        match = matcher.search(question, hint)
        if args.json:
            print(json.dumps(match_json(match, kb), ensure_ascii=False), flush=True)
        else:
            print(render_match(match, kb).text, end="\n\n", flush=True)
    return 0


def _chat(args: argparse.Namespace) -> int:
    kb, matcher = _load(args.knowledge)
    hint = languages.canonical(args.lang)
    print(f"Fact-check console: {len(kb.entries)} entries, knowledge base {kb.version}. "
          "Ask a question in any of the nine languages; an empty line or Ctrl-D quits.\n")
    while True:
        try:
            question = input("you> ")
        except EOFError:
            print()
            return 0
        if not question.strip():
            return 0
        print("\nbot>\n" + render_match(matcher.search(question, hint), kb).text + "\n")


def _run(webhook: bool = False) -> int:
    from bot import logs
    from bot.config import ConfigError, Settings

    try:
        settings = Settings.from_env()
        if webhook:
            settings.check_webhook()
    except ConfigError as exc:
        print(f"Cannot start: {exc}", file=sys.stderr)
        return 2
    # quiets httpx (it logs request urls, which hold the token) and redacts the token and secret everywhere
    logs.setup(settings.log_level, settings.log_format, secrets=(settings.token, settings.webhook_secret))
    from bot.app import run
    from bot.live import LiveKnowledge

    live = LiveKnowledge.load(settings.knowledge_dir)  # a broken knowledge base stops start-up with its errors listed
    try:
        run(settings, live, webhook=webhook)
    except ConfigError as exc:  # e.g. the webhook port is taken
        print(f"Cannot start: {exc}", file=sys.stderr)
        return 2
    return 0


def _health(args: argparse.Namespace) -> int:
    from bot.health import check

    ok, reason = check(_database(args.database))
    print(reason, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def _backup(args: argparse.Namespace) -> int:
    import sqlite3

    from bot.store import backup

    path = _database(args.database)
    if not path.is_file():
        print(f"No database at {path} (set --database or DATABASE_PATH).", file=sys.stderr)
        return 2
    try:
        version = backup(path, args.file)
    except (sqlite3.Error, OSError, ValueError) as exc:
        print(f"Backup failed: {exc}", file=sys.stderr)
        return 1
    size = args.file.stat().st_size
    print(f"backed up {path} (schema {version}, {size / 1024:.0f} KiB, integrity ok) to {args.file}")
    if not os.environ.get("HASH_KEY", "").strip():
        print(f"The hashing key {path.with_suffix('.key')} is not in the copy: keep a copy of it separately and "
              "safely (without it, votes and settings can no longer be matched to their chats).")
    return 0


def _database(option: Path | None) -> Path:
    import os

    from bot.config import Settings

    return option or Path(os.environ.get("DATABASE_PATH", "").strip() or Settings.database)


async def _open_store(path: Path):  # type: ignore[no-untyped-def]
    import os

    from bot.store import Store

    key = os.environ.get("HASH_KEY", "").strip().encode() or None
    return await Store.open(path, key)


def _stats(args: argparse.Namespace) -> int:
    import asyncio

    from bot.moderation import stats_text

    path = _database(args.database)
    if not path.exists():
        print(f"No database at {path}: the bot has not run there yet (set --database or DATABASE_PATH).",
              file=sys.stderr)
        return 2
    kb, _ = load_knowledge(_knowledge_dir(args.knowledge))

    async def work() -> str:
        store = await _open_store(path)
        try:
            return stats_text([await store.stats(7), await store.stats(30)], kb)
        finally:
            await store.close()

    print(asyncio.run(work()))
    return 0


def _export_phrasings(args: argparse.Namespace) -> int:
    import asyncio

    from bot.writeback import write_phrasings

    path = _database(args.database)
    if not path.exists():
        print(f"No database at {path} (set --database or DATABASE_PATH).", file=sys.stderr)
        return 2
    root = _knowledge_dir(args.knowledge)

    async def work() -> int:
        store = await _open_store(path)
        try:
            pending = await store.phrasings(include_exported=False)
            written = write_phrasings(root, [(entry, text, lang) for _, entry, text, lang in pending])
            done = {(w.entry_id, w.text) for w in written}
            await store.mark_exported([i for i, entry, text, _ in pending if (entry, text) in done])
            for w in written:
                print(f"{w.file}: {w.entry_id} [{w.lang}] {w.text}")
            skipped = len(pending) - len(written)
            print(f"{len(written)} phrasing(s) written" + (f", {skipped} skipped (entry gone)" if skipped else "")
                  + ". Review with git diff, then: python -m bot validate")
            return 0
        finally:
            await store.close()

    return asyncio.run(work())


def _i18n(update: bool) -> int:
    from bot.i18n import check_catalogs

    problems = check_catalogs(update=update)
    for problem in problems:
        print(problem)
    print("OK: every interface message is translated." if not problems else f"{len(problems)} problem(s).")
    return 1 if problems else 0


def _validate(directory: Path | None) -> int:
    root = _knowledge_dir(directory)
    started = time.perf_counter()
    kb, report = load_knowledge(root)
    elapsed = time.perf_counter() - started
    for problem in sorted(report.problems, key=lambda p: (p.severity != "error", p.file, p.line or 0)):
        print(problem)
    if kb is None:
        print(f"{len(report.errors)} error(s), {len(report.warnings)} warning(s): the knowledge base is NOT valid.")
        return 1
    print(f"OK: {len(kb.entries)} entries, {len(kb.sources)} sources, {len(kb.topics)} topics, "
          f"{len(kb.off_topic)} groups of declined questions, {len(kb.names)} names; "
          f"{len(report.warnings)} warning(s); version {kb.version}, loaded in {elapsed * 1000:.0f} ms.")
    _refresh_derived(kb, root)
    return 0


def _refresh_derived(kb: KnowledgeBase, root: Path) -> None:
    """Add the vectors of new phrasings to the embedding cache and train the classifiers of changed phrasings, so
    the bot's next start (and CI) finds them; drop what no phrasing needs any more."""
    from bot import classifier, semantic

    started = time.perf_counter()
    store = classifier.ClassifierStore(classifier.store_path(root))
    # n-grams alone: a matcher of its own, whose folding marks names (``name_weight``), so its n-gram classifier is
    # another than the one beside the model
    keys = list(Matcher(kb, classifiers=store).classifier_keys)
    embedder = semantic.default_embedder() if semantic.enabled() else None
    if embedder is None:
        print("Embedding cache: not checked (semantic matching is off or its model is not installed).")
    else:
        cache = semantic.EmbeddingCache(semantic.cache_path(root))
        vectors = len(cache)
        matcher = Matcher(kb, embedder=embedder, cache=cache, classifiers=store)
        keys += matcher.classifier_keys
        added = len(cache) - vectors
        # the knowledge folder's own cache holds this knowledge's phrasings only (a shared EMBEDDING_CACHE keeps all)
        own = cache.path == semantic.cache_path(root, env={})
        index = matcher.semantic
        dropped = cache.retain(embedder.name, index.texts) if index is not None and own else 0
        saved = cache.save()
        where = cache.path if saved else f"memory only: {cache.path} is not writable"
        print(f"Embedding cache: {added} new phrasing vector(s), {dropped} unused dropped ({where}).")
    trained = len([k for k in keys if k not in store.loaded])
    # the knowledge folder's own file keeps this knowledge's classifiers only, once every kind has been trained
    # (without the embedding model, its classifier is left alone)
    own = store.path == classifier.store_path(root, env={}) and embedder is not None
    dropped = store.retain(keys) if own else 0
    saved = store.save()
    where = store.path if saved else f"memory only: {store.path} is not writable"
    print(f"Classifiers: {trained} trained, {len(keys) - trained} up to date, {dropped} unused dropped "
          f"({where}); {time.perf_counter() - started:.1f} s.")


def _eval(args: argparse.Namespace) -> int:
    from bot.evaluation import evaluate, format_report, load_questions, tune, unknown_ids

    kb, matcher = _load(args.knowledge)
    files = args.files or sorted(EVAL_DIR.glob("dev*.yaml"))
    questions = [q for f in files for q in load_questions(f)]
    stale = unknown_ids(matcher, questions)
    if stale:
        print(f"unknown entry ids in the question set: {', '.join(stale)}", file=sys.stderr)
        return 2
    if args.tune:
        thresholds, tally = tune(matcher, questions, args.max_wrong, args.max_oos)
        shortcut = ("" if matcher.semantic is None else
                    f"; n-grams alone answer at {thresholds.shortcut} with margin weight {thresholds.shortcut_margin}"
                    if thresholds.shortcut is not None else "; the model is always asked")
        print(f"best thresholds: answer >= {thresholds.answer} with margin weight {thresholds.margin}, leading the "
              f"declined questions by {thresholds.decline_lead}{shortcut} "
              f"-> correct {tally.accuracy:.1%}, wrong {tally.wrong_rate:.1%}, out-of-scope answered "
              f"{tally.oos_rate:.1%} on {len(questions)} questions")
        return 0
    result = evaluate(matcher, questions)
    print(f"{len(questions)} questions from {', '.join(str(f) for f in files)}; knowledge {kb.version}")
    print(format_report(result, show_misses=not args.quiet))
    total = result.total
    failed = []
    if args.min_accuracy is not None:  # the goal holds for every language, not only on average
        for lang, tally in [*result.by_lang.items(), ("all", total)]:
            if tally.in_scope and tally.accuracy < args.min_accuracy:
                failed.append(f"accuracy {tally.accuracy:.1%} < {args.min_accuracy:.0%} ({lang})")
    if total.wrong_rate > args.max_wrong:
        failed.append(f"wrong answers {total.wrong_rate:.1%} > {args.max_wrong:.0%}")
    if total.oos_rate > args.max_oos:
        failed.append(f"out-of-scope answered {total.oos_rate:.1%} > {args.max_oos:.0%}")
    if failed:
        print("FAILED: " + "; ".join(failed))
        return 1
    return 0


def _base_url(option: str | None) -> str:
    from bot.site import DEFAULT_BASE_URL

    if option:
        return option
    print(f"note: page links use the placeholder {DEFAULT_BASE_URL}; pass --base-url with the published address",
          file=sys.stderr)
    return DEFAULT_BASE_URL


def _export(args: argparse.Namespace) -> int:
    from bot.export import export

    kb = require_knowledge(_knowledge_dir(args.knowledge))
    text = export(kb, args.format, _base_url(args.base_url))
    if args.out is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(text.encode("utf-8"))  # bytes: UTF-8 whatever the locale, CSV's CRLF kept as is
        sys.stdout.buffer.flush()
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_bytes(text.encode("utf-8"))
        print(f"wrote {args.out} ({args.format}, knowledge base {kb.version})", file=sys.stderr)
    return 0


def _site(args: argparse.Namespace) -> int:
    from bot.site import SiteError, build_site

    kb = require_knowledge(_knowledge_dir(args.knowledge))
    try:
        files = build_site(kb, args.out_dir, _base_url(args.base_url))
    except SiteError as exc:
        print(f"Cannot build the site: {exc}", file=sys.stderr)
        return 2
    index = (args.out_dir / "index.html").resolve()
    print(f"wrote {len(files)} files for {len(kb.entries)} entries in {', '.join(languages.SUPPORTED)} "
          f"(knowledge base {kb.version}); open {index.as_uri()}")
    return 0


def _diff(old_dir: Path, new_dir: Path) -> int:
    from bot.diff import diff_knowledge, format_diff

    loaded = []
    failed = False
    for directory in (old_dir, new_dir):
        kb, report = load_knowledge(directory)
        if kb is None:
            failed = True
            print(f"{directory} is not a valid knowledge base ({len(report.errors)} error(s)):", file=sys.stderr)
            for problem in report.errors:
                print(f"  {problem}", file=sys.stderr)
        loaded.append(kb)
    old, new = loaded
    if failed or old is None or new is None:
        return 2
    print(format_diff(diff_knowledge(old, new), old, new), end="")
    return 0
