"""The `lgcheck` command: replay traces, prove invariants, list the rules."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterable

from lgcheck.replay.report import FORMATS

EPILOG_REPLAY = """\
exit status: 0 every file kept the protocol (or, without --strict, possibly broke it);
1 a certain finding in some file (with --strict, a possible one too);
2 some file could not be read (its error names line and column; nothing in it
is checked), or a usage error; 4 an internal error (a bug: please report it);
130 interrupted (Ctrl-C); 141 the output was closed before the report ended.
With --manifest: 0 every trace got what its entry expects, 1 some did not,
2 the manifest or a trace it lists cannot be read (docs/trace-format.md has
the table of every command).

examples:
  lgcheck replay run.lgt                  one trace, findings as text
  lgcheck replay --json a.lgt b.lgt       one JSON document for both
  lgcheck replay --emit full.lgt in.lgt   also write the completed full trace
  lgcheck replay --manifest traces/manifest.toml
                                          the bundled traces against their
                                          expected verdicts
  lgcheck replay --format sarif traces/ > lgcheck.sarif
                                          for code scanning (also junit, github)
  lgcheck replay --jobs 2 --quiet corpus/  a corpus on 2 cores, only what failed
  lgcheck replay --cluster tcp://sched:8786 /shared/corpus/
                                          the same on a Dask cluster
"""


def _trace_files(paths: list[str], follow_links: bool = False) -> tuple[list[str], list[tuple[str, int]]]:
    """The files to replay: each path given, or a folder's .lgt files (sorted); and the folders that gave none.

    Inside a folder only regular files count, and a symlink is followed only
    with --follow-links: a planted `x.lgt -> /etc/shadow` is skipped.  A path
    given by name is read as given (the reader refuses what is not a regular
    file, and `-` is standard input).  Each folder with no .lgt file to read
    comes back as (folder, .lgt links skipped), so that the caller can refuse
    it: a folder the user gave is never dropped without a word.
    """
    out, empty = [], []
    for p in paths:
        if p != "-" and os.path.isdir(p):
            try:
                entries = sorted(os.scandir(p), key=lambda e: e.name)
            except OSError as e:
                out.append(p)  # the reader reports it
                del e
                continue
            found, links = False, 0
            for e in entries:
                if not e.name.endswith(".lgt"):
                    continue
                try:
                    if e.is_symlink() and not follow_links:
                        links += 1
                        continue
                    if e.is_file(follow_symlinks=follow_links):
                        out.append(e.path)
                        found = True
                except OSError:
                    continue
            if not found:
                empty.append((p, links))
        else:
            out.append(p)
    return out, empty


def _empty_folders(empty: list[tuple[str, int]]) -> str:
    """The usage error for folders given that hold no .lgt file to replay."""
    said = []
    for p, links in empty:
        why = f" (only {links} symlink{'s' if links != 1 else ''}, followed with --follow-links)" if links else ""
        said.append(f"{p}{why}")
    return f"no .lgt file to replay in the folder{'s' if len(said) > 1 else ''} given: {', '.join(said)}"


def _same_file(a: str, b: str) -> bool:
    """Do two paths name one file (or would writing `a` replace `b`)?"""
    if b == "-":
        return False
    try:
        if os.path.samefile(a, b):
            return True
    except OSError:
        pass
    return os.path.realpath(a) == os.path.realpath(b)


def _into_place(target: str) -> str | None:
    """How an output file at `target` is written: None, the usual way (a temporary file renamed over it);
    "through", into what is there (a character device such as /dev/null, a FIFO, or a link to an open
    descriptor such as /dev/stdout); "refuse", never (a block device or a socket).

    A rename over a device or a FIFO replaces it with a regular file: `-o /dev/null` run as root used to
    leave /dev/null a file of HTML, breaking every program on the machine that writes to it.
    """
    import stat

    try:
        if os.path.islink(target) and re.match(r"/(proc/(self|\d+)|dev)/fd/\d+$", os.readlink(target)):
            return "through"  # /dev/stdout, /dev/fd/3: the caller's own descriptor, whatever it is
        mode = os.stat(target).st_mode
    except OSError:
        return None  # absent (or unreadable: the write says why)
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return "through"
    if stat.S_ISBLK(mode) or stat.S_ISSOCK(mode):
        return "refuse"
    return None


def _write_into(target: str, source) -> None:
    """Copy the open text `source` into `target` as it is (see _into_place), never creating or renaming."""
    import shutil

    fd = os.open(target, os.O_WRONLY | getattr(os, "O_NOCTTY", 0))
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        shutil.copyfileobj(source, out)


def _tmp_prefix(target: str) -> str:
    """The prefix of the temporary file that stands in for `target` until it is renamed over it: the name's
    first 100 characters, so that a name near the file system's 255 bytes can still be written (the whole
    name plus mkstemp's own characters was too long: ENAMETOOLONG, "cannot write")."""
    return "." + os.path.basename(target)[:100] + "."


def _err(text: str) -> None:
    from lgcheck.replay.escape import shown

    print(f"lgcheck replay: error: {shown(text)}", file=sys.stderr)


# Options of `replay` that --manifest does not apply, with their defaults.
_MANIFEST_UNUSED = {
    "follow_links": False,
    "max_findings": None,
    "quiet": False,
    "select": [],
    "ignore": [],
    "jobs": 1,
    "cluster": None,
    "partial": False,
    "strict": False,
    "witnesses": None,
    "emit": None,
    "launcher": "2.6.23",
    "host": "2.6.23",
    "fault": [],
}


def _replay(args) -> int:

    if args.manifest:
        from lgcheck.replay.manifest import check_manifest

        # A manifest says itself which traces to replay and how (its `partial`), and compares all of each
        # one's findings: files or options given beside it would otherwise be dropped without a word.
        unused = [args.files and "FILE arguments"]
        unused += [f"--{k.replace('_', '-')}" for k, v in _MANIFEST_UNUSED.items() if getattr(args, k) != v]
        if args.format not in ("text", "json"):
            unused.append(f"--format {args.format}")
        unused = [u for u in unused if u]
        if unused:
            _err(f"--manifest replays the traces it lists as it says; it does not take {', '.join(unused)}")
            return 2
        return check_manifest(args.manifest, json_out=args.json or args.format == "json", out=sys.stdout)
    files, empty = _trace_files(args.files, args.follow_links)
    if empty:
        # Said before any report, as a folder alone always was: beside other files it would
        # otherwise vanish from the run, the total and the exit status without a word.
        _err(_empty_folders(empty))
        return 2
    if not files:
        _err("no trace files given")
        return 2
    if args.emit and len(files) != 1:
        _err("--emit writes one completed trace: give exactly one input file")
        return 2
    if files.count("-") > 1:
        _err("standard input (-) can be read only once")
        return 2
    from lgcheck.checker.faults import FAULTS

    for f in args.fault:
        if f not in FAULTS:
            _err(f"unknown fault {f!r}: `lgcheck prove --list-faults` lists them")
            return 2
    from lgcheck.spec.registry import FINDINGS

    for rule in args.select + args.ignore:
        if rule not in FINDINGS:
            print(f"lgcheck replay: error: unknown rule {rule!r}: `lgcheck rules` lists them", file=sys.stderr)
            return 2
    if args.max_findings is not None and args.max_findings < 0:
        print("lgcheck replay: error: --max-findings must be 0 or more", file=sys.stderr)
        return 2
    if args.witnesses and not args.partial:
        _err("--witnesses needs --partial: only a partial trace has possible findings")
        return 2
    if args.witnesses == "-":
        # `-` is standard output for every option that writes (show -o -); witnesses are files in a folder.
        _err("--witnesses -: - is standard output, where the report goes; witnesses are files: "
             "give a folder (./- for one named -)")
        return 2
    if args.emit == "-":
        # The report goes to standard output too, and a completed trace is written only once the
        # replay read its input whole: the two cannot share it.
        _err("--emit -: - is standard output, where the report goes; give a file for the completed trace "
             "(./- for one named -)")
        return 2
    if args.witnesses:
        try:
            os.makedirs(args.witnesses, exist_ok=True)
            if not os.access(args.witnesses, os.W_OK):
                raise PermissionError("not writable")
        except OSError as e:
            _err(f"--witnesses {args.witnesses}: cannot write there ({getattr(e, 'strerror', None) or e})")
            return 2
    if args.max_witnesses < 0:
        _err("--max-witnesses must be 0 or more")
        return 2
    from lgcheck.replay.corpus import MAX_JOBS

    if not 1 <= args.jobs <= MAX_JOBS:
        _err(f"--jobs must be 1..{MAX_JOBS} (worker processes on this machine), not {args.jobs}")
        return 2
    model = {"launcher": args.launcher, "faults": tuple(args.fault)}
    if args.host != "2.6.23":  # (only when asked: the default model's keywords stay as they were)
        model["host"] = args.host
    from lgcheck.replay.corpus import cluster_problem

    if args.cluster is not None and cluster_problem() is not None:
        _err(cluster_problem())
        return 2
    if args.cluster is not None and "-" in files:
        _err("--cluster: the workers cannot read this command's standard input (-); give files")
        return 2
    import time

    started = time.time()  # the progress line's clock (tqdm's)
    stdin = None
    if "-" in files and args.partial and (args.witnesses or args.json or args.format == "json"):
        # A witness is sought by reading the trace again, and standard input can be read only once: it is
        # spooled to a temporary file, replayed from there and reported as `-` (as `show -` draws it).
        stdin = _spool_stdin()
        files = [stdin if f == "-" else f for f in files]
    try:
        if args.emit:
            return _replay_emit(args, files[0], model, stdin)
        return _replay_files(args, files, model, started, stdin)
    finally:
        if stdin is not None:
            os.unlink(stdin)


def _spool_stdin() -> str:
    """Standard input copied to a temporary file (on disk, not in memory): its path."""
    import shutil
    import tempfile

    with tempfile.NamedTemporaryFile("wb", prefix="lgcheck-stdin-", suffix=".lgt", delete=False) as fh:
        shutil.copyfileobj(sys.stdin.buffer, fh)
    return fh.name


def _as_given(r, spool: str | None):
    """(the result as the user named its file, the file to read it again from): a result of the spooled
    standard input is named `-` again (its error's text named the spool too)."""
    import dataclasses

    source = r.file
    if spool is not None and r.file == spool:
        r.file = "-"
        if r.error is not None:
            r.error = dataclasses.replace(r.error, text=r.error.text.replace(spool, "-"))
    return r, source


def _replay_files(args, files, model, started, stdin) -> int:
    from lgcheck.replay.corpus import ClusterError, replay_many

    results = replay_many(files, jobs=args.jobs, cluster=args.cluster, partial=args.partial, **model)
    try:
        return _report_files(args, files, model, results, started, stdin)
    except ClusterError as e:
        _err(str(e))
        return 2
    finally:
        # Ctrl-C or a closed output while the report is written: the worker processes end now, not when
        # the interpreter exits after each has finished the file it was replaying.
        results.close()


def _report_files(args, files, model, results, started, stdin) -> int:
    import itertools

    first = next(results)  # a cluster that cannot be used says so (ClusterError) before the report begins
    rep = _reporter(args)
    show = len(files) > 1 and not (args.quiet or args.no_progress)
    records = findings = 0
    if show:
        from lgcheck.replay.progress import Ticker  # (tqdm: tens of ms of start-up, for one file in vain)

        line = Ticker(FILES_LINE, len(files), show, leave=False, unit="file", started=started)
    else:
        line = _NoLine()
    with line as ticker:
        for r in itertools.chain([first], results):
            ticker.clear()  # a terminal's progress line gives way to the report
            r = _selected(args, r)
            r, source = _as_given(r, stdin)
            if args.partial and (args.witnesses or args.json or args.format == "json"):
                _witnesses(args, r, model, source)
            rep.file(r)
            records, findings = records + r.records, findings + len(r.findings)
            ticker.set(advance=1, status=f"  {records:,} records, {findings:,} findings")
    rep.end()
    return rep.totals.exit_status(strict=args.strict)


FILES_LINE = "lgcheck replay: {n}/{total} files  {elapsed}<{remaining}  {rate_fmt}{status}"


class _NoLine:
    """No progress line (one file, --quiet or --no-progress): Ticker's calls, doing nothing."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def clear(self) -> None:
        pass

    def set(self, n=None, status=None, advance=0) -> None:
        pass


def _witnesses(args, r, model, source: str) -> None:
    """Partial mode: a witness for each possible finding (the first --max-witnesses), written to --witnesses DIR.

    `source` is the file the trace is read from again (standard input's spool for `-`)."""
    from lgcheck.replay import witness

    if r.error is not None or all(f.certain for f in r.findings):
        return
    if source == "-":  # (not spooled: only when no witness was asked for at the start)
        r.notes.append("no witnesses: standard input cannot be read twice")
        return
    from lgcheck.replay.parser import read_trace

    found = witness.witnesses(
        lambda: read_trace(source, partial=True), r.findings, limit=args.max_witnesses, spool=True, **model
    )
    # Names given so far in this run, so that two traces called run.lgt do not share their witnesses' names.
    taken = vars(args).setdefault("_witness_names", {})
    base = witness.base_name(r.file, taken) if args.witnesses and found else None
    for i, w in found.items():
        if w is None:
            r.witnesses[i] = {"file": None, "found": False, "summary": "none found by the bounded search"}
            continue
        text, chosen = w
        f = r.findings[i]
        file_ = witness.write(args.witnesses, r.file, f, text, chosen, base=base) if args.witnesses else None
        text.close()  # (spooled: its temporary file goes now, not when collected)
        r.witnesses[i] = {
            "file": file_,
            "found": True,
            "summary": f"values for the `?`s of {chosen.values} record(s), records for {chosen.filled} of "
            f"{chosen.lost} `lost`, {chosen.dropped} answer(s) with a `?` left to the model",
            "choices": chosen.kept,  # the first witness.KEPT_CHOICES; the rest only counted
            "more_choices": chosen.more,
        }
    n = sum(not f.certain for f in r.findings)
    if n > len(found):
        r.notes.append(f"witnesses sought for the first {len(found)} of {n} possible findings (--max-witnesses)")


def _reporter(args):
    from lgcheck.replay import report

    return report.reporter(
        "json" if args.json else args.format,
        sys.stdout,
        max_findings=args.max_findings,
        quiet=args.quiet,
        show_notes=not args.no_notes,
    )


def _selected(args, r):
    select, ignore = set(args.select), set(args.ignore)
    if select or ignore:
        from lgcheck.replay.findings import _findings

        # Into a SpillLog as replay's own findings are: a list would hold every kept finding in memory.
        kept = _findings()
        kept.extend(f for f in r.findings if (not select or f.rule in select) and f.rule not in ignore)
        r.findings = kept
    return r


def _replay_emit(args, path: str, model: dict, stdin: str | None = None) -> int:
    """Replay one file and write its completed trace, never harming a file.

    The output must not be the input; it is written to a temporary file in
    the output's folder and renamed over the output only when the replay read
    the whole input (and, in partial mode, when the completed trace replays
    clean); on any error nothing is left behind and the output is untouched.
    """
    import tempfile

    from lgcheck.replay.engine import replay_file

    target = args.emit
    if _same_file(target, path):
        _err(f"--emit {target}: that is the input file; the completed trace goes to another file")
        return 2
    if os.path.isdir(target):
        _err(f"--emit {target}: is a folder; give a file name")
        return 2
    place = _into_place(target)
    if place == "refuse":
        _err(f"--emit {target}: is a block device or a socket, not a file")
        return 2
    folder = os.path.dirname(os.path.abspath(target))
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=_tmp_prefix(target), suffix=".tmp")
    except OSError as e:
        _err(f"cannot write {target}: {e.strerror}")
        return 2
    written = False
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            result = replay_file(path, partial=args.partial, emit=out, **model)
        problem = None
        if result.error is not None:
            problem = "the input has an error, so there is no completed trace"
        elif args.partial and result.verdict == "ok":
            again = replay_file(tmp, partial=True, **model)
            # A missing `output` is a missing answer in partial mode: the completion must hold every one.
            unanswered = any(
                "output is not computed" in n or "was not recorded: replay takes" in n for n in again.notes
            )
            if again.verdict != "ok" or unanswered:
                problem = (
                    "the completed trace would not replay clean (an answer depends on a value the capture "
                    "left unrecorded)"
                )
        if problem is None and place == "through":
            with open(tmp, encoding="utf-8") as done:
                _write_into(target, done)
        elif problem is None:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
            os.replace(tmp, target)
            written = True
    except OSError as e:
        _err(f"cannot write {target}: {e.strerror}")
        return 2
    finally:
        if not written:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    result, source = _as_given(_selected(args, result), stdin)
    if args.partial and (args.witnesses or args.json or args.format == "json"):
        _witnesses(args, result, model, source)  # (as without --emit: --witnesses DIR asked for them)
    rep = _reporter(args)
    rep.file(result)
    rep.end()
    if problem is not None:
        _err(f"--emit {target}: not written: {problem}")
        return 2
    return rep.totals.exit_status(strict=args.strict)


def _rules(args) -> int:
    import lgcheck.spec.apply  # noqa: F401  (registers every rule)
    import lgcheck.spec.devices  # noqa: F401
    import lgcheck.spec.hypercalls  # noqa: F401
    import lgcheck.spec.launcher  # noqa: F401
    from lgcheck.spec.registry import FINDINGS, RULES

    print("Findings (stable names, as replay reports them):")
    for f in FINDINGS.values():
        inv = f" [invariant: {f.invariant}]" if f.invariant else ""
        print(f"  {f.name:22} {f.description}{inv}")
    print("\nModel rules (each follows one function of Linux 2.6.23):")
    for r in RULES.values():
        print(f"  {r.name:20} {r.linux}\n  {'':20} {r.summary}")
    return 0


def _show(args) -> int:
    from lgcheck.replay import show
    from lgcheck.replay.escape import shown

    def err(text: str) -> None:
        print(f"lgcheck show: error: {shown(text)}", file=sys.stderr)

    if args.max_records < 0:
        err(f"--max-records must be 0 or more, not {args.max_records}")
        return 2
    out = args.output
    if not args.markdown and out is None:
        out = os.path.splitext(os.path.basename(args.trace))[0] + ".html"
    # The drawing never takes the place of the trace it draws (`-o run.lgt`, a link to it, or the default
    # name of a trace called `run.html`): checked before anything is replayed or written.
    if out not in (None, "-") and args.trace != "-" and _same_file(out, args.trace):
        err(f"-o {out}: that is the trace itself; the drawing goes to another file")
        return 2
    if out not in (None, "-") and os.path.isdir(out):
        err(f"-o {out}: is a folder; give a file name")
        return 2
    run = show.Run(args.trace, limit=args.max_records)
    # The page is written as it is built (a row per finding: held whole, it grew with them).
    pieces = show.markdown_pieces(run) if args.markdown else show.html_pieces(run)
    unread = run.result.error is not None and not run.result.error.line  # no file to draw: no page either
    if unread:
        pass
    elif out in (None, "-"):
        sys.stdout.writelines(pieces)
    elif not _write_whole(out, pieces, err):
        return 2
    else:
        print(f"written: {shown(out)}")
    if run.result.error is not None:
        # The page shows the error too, but an unreadable trace is exit 2 with its line:col on stderr,
        # as for `replay` (a CI loop over `show --markdown` must not pass over it).
        print(run.result.error.text, file=sys.stderr)  # (escaped where it quotes the trace, as replay prints it)
        return 2
    return 0


def _write_whole(target: str, pieces: Iterable[str], err) -> bool:
    """Write `pieces` (as they come, never joined) to `target` through a temporary file renamed over it: a
    failed write leaves the old file whole, and a symbolic link at `target` is replaced, not followed into
    the file it names.  A FIFO or character device is written into instead (_into_place)."""
    import tempfile

    place = _into_place(target)
    if place == "refuse":
        err(f"-o {target}: is a block device or a socket, not a file")
        return False
    if place == "through":
        try:
            fd = os.open(target, os.O_WRONLY | getattr(os, "O_NOCTTY", 0))  # as _write_into: never created
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.writelines(pieces)
        except OSError as e:
            err(f"cannot write {target}: {e.strerror}")
            return False
        return True
    folder = os.path.dirname(os.path.abspath(target))
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=_tmp_prefix(target), suffix=".tmp")
    except OSError as e:
        err(f"cannot write {target}: {e.strerror}")
        return False
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.writelines(pieces)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException as e:
        # The pieces are built while they are written: whatever stops them half-way (a full disk, an
        # interrupt, a fault in the drawing) leaves no half page beside the old one.
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if not isinstance(e, OSError):
            raise
        err(f"cannot write {target}: {e.strerror}")
        return False
    return True


def _prove(args) -> int:
    from lgcheck.checker.cli import run_prove

    return run_prove(args)


def _certify(args) -> int:
    from lgcheck.checker.certify_cli import run_certify

    return run_certify(args)


class _Version(argparse.Action):
    """--version, looked up only when asked (importlib.metadata costs ~40 ms of every start-up)."""

    def __call__(self, parser, namespace, values, option_string=None):
        from lgcheck.replay.report import version

        print(f"lgcheck {version()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lgcheck",
        description="Verify the lguest I/O protocol of Linux 2.6.23: replay captured traces on a "
        "faithful model of the Host and Launcher, prove invariants with z3, and write "
        "counterexamples as replayable traces.",
    )
    p.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    r = sub.add_parser(
        "replay",
        help="check .lgt traces against the 2.6.23 model",
        description="Replay .lgt traces (of the lguest I/O protocol) on the model of the 2.6.23 Host and "
        "Launcher and report, "
        "record by record, where a run broke the protocol. Each finding names file, line, "
        "rule and what was expected against what happened.",
        epilog=EPILOG_REPLAY,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    r.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="trace files (regular files, or - for standard input), or folders of .lgt files (none in one: an error)",
    )
    r.add_argument(
        "--follow-links",
        action="store_true",
        help="in folders, also read .lgt entries that are symbolic links (skipped by default)",
    )
    r.add_argument(
        "--format",
        default="text",
        choices=FORMATS,
        help="text for people (default); json (docs/json-schemas/replay.schema.json); sarif 2.1.0 for code "
        "scanning; junit, one testcase per trace; github, workflow annotations",
    )
    r.add_argument("--json", action="store_true", help="short for --format json")
    r.add_argument(
        "--max-findings",
        type=int,
        default=None,
        metavar="N",
        help="print at most N findings per file (text and github; the counts still count all)",
    )
    r.add_argument("-q", "--quiet", action="store_true", help="print only the files that are not ok, and the total")
    r.add_argument("--select", action="append", default=[], metavar="RULE", help="report only this rule; repeatable")
    r.add_argument("--ignore", action="append", default=[], metavar="RULE", help="do not report this rule; repeatable")
    r.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="replay N files at once in worker processes (results stay in input order)",
    )
    r.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress line on stderr for many files (by default: a line redrawn on a terminal, "
        "else a line every 5 s after the first 5 s; --quiet also turns it off)",
    )
    r.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="replay the files on a Dask cluster: a scheduler's tcp://host:8786, or `local` for --jobs "
        "worker processes here (needs the extra: pip install 'lgcheck[dask]'; docs/cluster.md)",
    )
    r.add_argument(
        "--partial",
        action="store_true",
        help="accept incomplete captures: `?` for unrecorded values, missing answers, `lost [records=N]`; "
        "findings are certain or possible",
    )
    r.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 for a possible violation too (partial mode), not only for a certain one",
    )
    r.add_argument(
        "--witnesses",
        metavar="DIR",
        help="partial mode: write each possible finding's witness (a completion that replays to it) into DIR",
    )
    r.add_argument(
        "--max-witnesses",
        type=int,
        default=10,
        metavar="N",
        help="seek witnesses for the first N possible findings of each file (default 10)",
    )
    r.add_argument("--emit", metavar="FILE", help="write the completed full trace (input + computed answers)")
    r.add_argument("--no-notes", action="store_true", help="do not print notes (remarks that are not findings)")
    r.add_argument(
        "--launcher",
        default="2.6.23",
        choices=["2.6.23", "checked"],
        help="the Launcher to compare with: the real one (default) or the checked one of `lgcheck prove`",
    )
    r.add_argument(
        "--host",
        default="2.6.23",
        choices=["2.6.23", "fixed"],
        help="the Host's copy_data to compare with: the real one (default) or the fixed one of `lgcheck prove "
        "--host fixed`, which adds srcoff to the source address",
    )
    r.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME",
        help="replay against a model with this injected Host fault (as `lgcheck prove --fault`); repeatable",
    )
    r.add_argument(
        "--manifest",
        metavar="TOML",
        help="replay every trace a manifest lists and compare with its expected verdict, rules and lines",
    )
    r.add_argument(
        "--max-memory",
        type=_mib,
        metavar="MIB",
        help="end the run cleanly (exit 2) if it needs more than this much memory (address space, in MiB)",
    )
    r.set_defaults(run=_replay)

    sh = sub.add_parser(
        "show",
        help="draw one trace as an HTML sequence diagram (or a Markdown summary with Mermaid)",
        description="Replay one trace and draw it: a self-contained HTML page with an SVG sequence diagram "
        "(a lifeline per Guest, Host and Launcher; each record an arrow or a mark; descriptors' used_len over "
        "time; findings in red), or with --markdown a summary with a Mermaid diagram for a CI job page.",
        epilog="exit status: 0 the trace was drawn (whatever its findings); 2 an input error, an unreadable "
        "trace or a usage error; 4 an internal error (a bug: please report it); 130 interrupted (Ctrl-C); "
        "141 the output was closed before the page ended.",
    )
    sh.add_argument("trace", metavar="TRACE", help="the .lgt file")
    sh.add_argument("-o", "--output", metavar="FILE", help="where to write (default TRACE.html here; - for stdout)")
    sh.add_argument("--markdown", action="store_true", help="write a Markdown summary (to stdout unless -o)")
    sh.add_argument("--max-records", type=int, default=5000, metavar="N", help="draw at most N records (default 5000)")
    sh.set_defaults(run=_show)

    ru = sub.add_parser("rules", help="list the finding names and the model's rules")
    ru.set_defaults(run=_rules)

    try:
        from lgcheck.checker.cli import add_prove_parser
    except ImportError:  # pragma: no cover - the checker is part of the package
        add_prove_parser = None
    if add_prove_parser is not None:
        add_prove_parser(sub, _prove)
        from lgcheck.checker.certify_cli import add_certify_parser

        add_certify_parser(sub, _certify)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    max_memory = getattr(args, "max_memory", None)
    if max_memory is not None:
        problem = _limit_memory(max_memory)
        if problem:
            print(f"lgcheck: error: --max-memory {max_memory}: {problem}", file=sys.stderr)
            return 2
    try:
        _answer_ctrl_c()
        return _run(args, parser, max_memory)
    finally:
        # z3 allocates as the interpreter shuts down (its finalizers and threads); under a cap that the
        # run has just exhausted that allocation fails, and z3 aborts the process in C++ (exit 134, after
        # the one-line message).  The cap is for the checking, so it ends with it.
        _lift_memory_limit()


def _answer_ctrl_c() -> None:
    """From here on Ctrl-C is a KeyboardInterrupt, which _run answers after stopping workers and solvers.

    Until now it was lgcheck.__main__'s immediate exit: nothing had been written or started.
    """
    import signal

    if getattr(signal.getsignal(signal.SIGINT), "lgcheck_starting", False):
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _run(args, parser, max_memory) -> int:
    from lgcheck.replay import output_watch

    try:
        output_watch.watch(sys.stdout)  # (a pipe's reader gone is then noticed while reading, not only writing)
        return args.run(args)
    except KeyboardInterrupt:
        print("lgcheck: interrupted", file=sys.stderr)
        return 130
    except (BrokenPipeError, output_watch.OutputClosed):
        # The reader closed the output before the report ended (`| head`): the rest was neither written nor,
        # for later files, checked, so "0: every file ok" would be a claim never made.  141 is what a shell
        # reports for a process that SIGPIPE ended, and is not 0 (a pipeline under pipefail must not pass).
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # (the exit's flush would fail again)
        except (OSError, ValueError):
            pass
        return 141
    except OSError as exc:
        import errno

        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO):
            return _internal_error(exc, max_memory)
        # The report (or a file it goes to) could not be written: the disk, not lgcheck, failed.
        try:
            sys.stdout = open(os.devnull, "w")  # (the exit's flush would fail again)
        except OSError:
            pass
        print(f"lgcheck: error: cannot write the report: {exc.strerror}; the rest was not written", file=sys.stderr)
        return 2
    except MemoryError as exc:
        what = (
            "the model's formulas or states outgrew it"
            if getattr(args, "command", None) in ("prove", "certify")
            else "the input's live state (bindings, descriptors, pending sends) is too large"
        )
        if type(exc).__name__ == "WrittenOutOfMemory":
            what = str(exc)  # what was written before memory ran out
        print(
            "lgcheck: error: out of memory"
            + (f" (--max-memory {max_memory} MiB)" if max_memory else "")
            + f": {what}; nothing more was checked",
            file=sys.stderr,
        )
        return 2
    except Exception as exc:  # a bug: no traceback for the user, a request for a report
        return _internal_error(exc, max_memory)
    finally:
        output_watch.unwatch()


def _internal_error(exc: Exception, max_memory=None) -> int:
    """A bug (exit 4, a request for a report), or the solver's own out of memory (a limit: exit 2)."""
    if type(exc).__name__ == "Z3Exception" and "out of memory" in str(exc):
        # The solver's own allocation failed (prove, certify): a limit, not a bug.
        print(
            "lgcheck: error: out of memory"
            + (f" (--max-memory {max_memory} MiB)" if max_memory else "")
            + ": the model's formulas or states outgrew it; nothing more was checked",
            file=sys.stderr,
        )
        return 2
    print(
        f"lgcheck: internal error ({type(exc).__name__}: {str(exc)[:200]!r}): this is a bug in lgcheck; "
        "please report it with the command line and the input that caused it",
        file=sys.stderr,
    )
    if os.environ.get("LGCHECK_TRACEBACK"):
        raise exc
    return 4


_UNCAPPED: list = []  # the address-space limits --max-memory replaced, to restore when the run ends


def _lift_memory_limit() -> None:
    if not _UNCAPPED:
        return
    import resource

    try:
        resource.setrlimit(resource.RLIMIT_AS, _UNCAPPED.pop())
    except (ValueError, OSError):  # pragma: no cover - raising back to the old soft limit is always allowed
        pass


def _one_malloc_arena() -> None:
    """Have every thread allocate from glibc's main arena (mallopt M_ARENA_MAX 1).

    A thread's first malloc reserves an arena of 64 MiB of address space.  Under RLIMIT_AS that
    reservation fails long before memory runs out, and a z3 worker thread whose allocation then fails
    ends the process in C++'s terminate (exit 134), where the main thread would have raised.
    """
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-8, 1)  # M_ARENA_MAX
    except (OSError, AttributeError):  # not glibc: nothing to tune
        pass


def _limit_memory(mib) -> str | None:
    """Cap this process's address space at `mib` MiB: an allocation past it ends the run cleanly."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return "not supported on this system"
    limit = int(mib) * 1024 * 1024
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY and limit > hard:
            return f"above the hard limit of {hard // (1024 * 1024)} MiB"
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
        _UNCAPPED.append((soft, hard))
        _one_malloc_arena()
    except (ValueError, OSError) as e:
        return str(e)
    except OverflowError:  # past what setrlimit takes (2**63 bytes)
        return "too large (no limit takes more than 8,796,093,022,207 MiB)"
    return None


def _mib(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of MiB") from None
    if v < 64:
        raise argparse.ArgumentTypeError(f"{v} MiB is too little to run at all (at least 64)")
    return v


if __name__ == "__main__":
    sys.exit(main())
