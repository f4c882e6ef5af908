"""Materialise a bare repository's tree at successive commits in one reusable work tree.

Why: the localization benchmark visits many commits of the same repository. Exporting a
fresh tree for each (tens of thousands of files for django) is slow and, worse, would make
the engine re-index from scratch every time. Instead one work tree per repository is moved
between commits with `git read-tree -m -u` (what `git checkout` does under the hood), using
a private index file so the shared bare mirror is never written to. The list of changed
paths (`git diff --name-status`) is returned so a caller can update an index incrementally,
as the language server would on watched-file events.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path


class GitError(RuntimeError):
    """A git command failed; the message carries git's stderr."""


def _git(git_dir: Path, *args: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        ["git", f"--git-dir={git_dir}", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        raise GitError(f"git {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout


def has_commit(git_dir: Path, commit: str) -> bool:
    """True when `commit` exists in the repository (a snapshot may predate or lack it)."""
    proc = subprocess.run(
        ["git", f"--git-dir={git_dir}", "cat-file", "-e", f"{commit}^{{commit}}"],
        capture_output=True,
        check=False,
    )
    return proc.returncode == 0


def commit_time(git_dir: Path, commit: str) -> int:
    """Committer timestamp of `commit` (used to visit commits in chronological order)."""
    return int(_git(git_dir, "log", "-1", "--format=%ct", commit).strip())


@dataclass
class TreeChange:
    """Paths that differ between the previous and the new commit of a work tree."""

    commit: str
    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    fresh: bool = False  # True when the tree was exported from scratch
    missing: list[str] = field(default_factory=list)  # blobs absent from a partial mirror

    @property
    def changed(self) -> list[str]:
        """Every path whose content or existence changed."""
        return self.added + self.modified + self.deleted


class WorkTree:
    """One checked-out tree of a bare repository, moved between commits in place."""

    def __init__(self, git_dir: Path, root: Path) -> None:
        self.git_dir = git_dir
        self.root = root
        # The private index sits beside (not inside) the tree so the engine never sees it.
        self._index_file = root.with_name(root.name + ".gitindex")
        self.commit: str | None = None

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["GIT_INDEX_FILE"] = str(self._index_file)
        env["GIT_WORK_TREE"] = str(self.root)
        return env

    def checkout(self, commit: str) -> TreeChange:
        """Make the work tree match `commit`; return what changed since the last call.

        A snapshot mirror may lack its largest blobs (data files). `read-tree` then refuses
        the whole move, so the tree is updated file by file instead, leaving the missing
        ones out (listed in `TreeChange.missing`) rather than failing the instance.
        """
        env = self._env()
        if self.commit is None:
            if self.root.exists():
                shutil.rmtree(self.root)
            self._index_file.unlink(missing_ok=True)
            self.root.mkdir(parents=True)
            files = _git(self.git_dir, "ls-tree", "-r", "--name-only", "-z", commit)
            change = TreeChange(commit, added=[p for p in files.split("\0") if p], fresh=True)
            try:
                _git(self.git_dir, "read-tree", "--reset", "-u", commit, env=env)
            except GitError:
                change.missing = self._write_files(commit, change.added)
                _git(self.git_dir, "read-tree", "--reset", commit, env=env)
        else:
            change = self._diff(self.commit, commit)
            try:
                # Two-tree merge: updates exactly the paths that differ, removes deleted ones.
                _git(self.git_dir, "read-tree", "-m", "-u", self.commit, commit, env=env)
            except GitError:
                for path in change.deleted:
                    (self.root / path).unlink(missing_ok=True)
                change.missing = self._write_files(commit, change.added + change.modified)
                _git(self.git_dir, "read-tree", "--reset", commit, env=env)
        self.commit = commit
        return change

    def _write_files(self, commit: str, paths: list[str]) -> list[str]:
        """Write `paths` as they are at `commit` via `git cat-file --batch`; return missing."""
        wanted = set(paths)
        entries = {p: e for p, e in self._entries(commit).items() if p in wanted}
        missing: list[str] = []
        proc = subprocess.Popen(
            ["git", f"--git-dir={self.git_dir}", "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert proc.stdin is not None and proc.stdout is not None
        try:
            for path, (mode, sha) in sorted(entries.items()):
                proc.stdin.write(sha.encode() + b"\n")
                proc.stdin.flush()
                header = proc.stdout.readline().split()
                if len(header) < 3 or header[1] != b"blob":
                    missing.append(path)  # "<sha> missing", or a submodule commit
                    continue
                data = proc.stdout.read(int(header[2]))
                proc.stdout.read(1)  # the newline after each object
                target = self.root / path
                target.parent.mkdir(parents=True, exist_ok=True)
                if target.is_symlink() or target.exists():
                    target.unlink()
                if mode == "120000":
                    target.symlink_to(data.decode())
                else:
                    target.write_bytes(data)
                    if mode == "100755":
                        target.chmod(0o755)
        finally:
            proc.stdin.close()
            proc.wait()
        return missing

    def _entries(self, commit: str) -> dict[str, tuple[str, str]]:
        """path -> (mode, object id) for every non-tree entry at `commit`."""
        out = _git(self.git_dir, "ls-tree", "-r", "-z", commit)
        entries: dict[str, tuple[str, str]] = {}
        for entry in out.split("\0"):
            if entry:
                meta, path = entry.split("\t", 1)
                mode, _, sha = meta.split(" ")
                entries[path] = (mode, sha)
        return entries

    def _diff(self, old: str, new: str) -> TreeChange:
        out = _git(self.git_dir, "diff", "--name-status", "--no-renames", "-z", old, new)
        fields = [f for f in out.split("\0") if f]
        change = TreeChange(new)
        for status, path in zip(fields[::2], fields[1::2], strict=True):
            if status == "A":
                change.added.append(path)
            elif status == "D":
                change.deleted.append(path)
            else:  # M (content), T (type change): the path exists in both
                change.modified.append(path)
        return change

    def blob_ids(self) -> dict[str, str]:
        """path -> blob id of the regular files at the current commit (no symlinks)."""
        if self.commit is None:
            return {}
        return {
            path: sha
            for path, (mode, sha) in self._entries(self.commit).items()
            if mode.startswith("100")
        }
