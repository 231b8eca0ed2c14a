"""Ingest checkpoints per source file (issue 15): a re-run reads only what was
appended; a truncated, rotated or replaced file is read from its start; exact
counts and rows every time."""

import json
import os

import events as ev


def sig(n, prefix="s"):
    """A signal whose line length does not depend on ``n`` below 1,000 (same-size files)."""
    return ev.signal(event_id=f"{prefix}{n:03d}", workflow=f"wf-{prefix}{n:03d}")


def write(path, *events, mode="w"):
    with open(path, mode) as f:
        for event in events:
            f.write(json.dumps(event) + "\n")
    return str(path)


def summary(msp, *args):
    result = msp("--format", "json", "ingest", *map(str, args))
    assert result.exit_code in (0, 1), result.stderr
    out = result.json()
    assert out["read"] == out["ingested"] + out["duplicates"] + out["rejected"]
    return out


def counts(out):
    return {k: out[k] for k in ("read", "ingested", "duplicates", "rejected", "checkpoint_skipped")}


def checkpoint(conn, workspace, path):
    return conn.execute("SELECT byte_offset, line_no FROM ingest_checkpoints WHERE workspace = %s AND path = %s",
                        (workspace, os.path.abspath(path))).fetchone()


def event_lines(conn, workspace):
    return conn.execute("SELECT event_id, source_line FROM workflow_events WHERE workspace = %s ORDER BY seq",
                        (workspace,)).fetchall()


def test_append_and_rerun_reads_only_the_new_lines_and_numbers_them_on(msp, conn, workspace, tmp_path):
    path = write(tmp_path / "day.jsonl", sig(1), sig(2), sig(3))
    assert counts(summary(msp, path)) == {"read": 3, "ingested": 3, "duplicates": 0, "rejected": 0,
                                          "checkpoint_skipped": 0}
    assert checkpoint(conn, workspace, path) == (os.path.getsize(path), 3)
    with open(path, "a") as f:
        f.write(json.dumps(sig(4)) + "\n\n" + '{"broken\n' + json.dumps(sig(5)) + "\n")
    assert counts(summary(msp, path)) == {"read": 3, "ingested": 2, "duplicates": 0, "rejected": 1,
                                          "checkpoint_skipped": 3}
    assert event_lines(conn, workspace) == [("s001", 1), ("s002", 2), ("s003", 3), ("s004", 4), ("s005", 7)]
    rejected = conn.execute("SELECT line_no FROM rejected_lines WHERE workspace = %s", (workspace,)).fetchall()
    assert rejected == [(6,)]  # line numbers continue from the checkpoint (blank line 5 counted)
    assert checkpoint(conn, workspace, path) == (os.path.getsize(path), 7)
    assert counts(summary(msp, path)) == {"read": 0, "ingested": 0, "duplicates": 0, "rejected": 0,
                                          "checkpoint_skipped": 7}


def test_from_start_reads_everything_and_never_moves_the_checkpoint_back(msp, conn, workspace, tmp_path):
    path = write(tmp_path / "day.jsonl", sig(1), sig(2))
    summary(msp, path)
    assert counts(summary(msp, path, "--from-start")) == {"read": 2, "ingested": 0, "duplicates": 2, "rejected": 0,
                                                          "checkpoint_skipped": 0}
    assert checkpoint(conn, workspace, path) == (os.path.getsize(path), 2)


def test_a_truncated_file_is_read_from_the_start(msp, conn, workspace, tmp_path):
    path = write(tmp_path / "day.jsonl", *(sig(n) for n in range(1, 6)))
    inode = os.stat(path).st_ino
    summary(msp, path)
    write(path, sig(1, "t"), sig(2, "t"))  # truncated in place, then two new lines
    assert os.stat(path).st_ino == inode
    assert counts(summary(msp, path)) == {"read": 2, "ingested": 2, "duplicates": 0, "rejected": 0,
                                          "checkpoint_skipped": 0}
    assert checkpoint(conn, workspace, path) == (os.path.getsize(path), 2)  # replaced, though shorter
    write(path, sig(3, "t"), mode="a")
    assert counts(summary(msp, path)) == {"read": 1, "ingested": 1, "duplicates": 0, "rejected": 0,
                                          "checkpoint_skipped": 2}
    assert [e for e, _ in event_lines(conn, workspace)] == [f"s00{n}" for n in range(1, 6)] + ["t001", "t002",
                                                                                                "t003"]


def test_a_file_truncated_and_grown_past_the_old_offset_is_read_from_the_start(msp, conn, workspace, tmp_path):
    path = write(tmp_path / "day.jsonl", sig(1), sig(2))
    summary(msp, path)
    write(path, *(sig(n, "g") for n in range(1, 5)))  # copytruncate, then the writer goes on
    assert counts(summary(msp, path)) == {"read": 4, "ingested": 4, "duplicates": 0, "rejected": 0,
                                          "checkpoint_skipped": 0}
    assert checkpoint(conn, workspace, path) == (os.path.getsize(path), 4)


def test_a_rotated_file_is_followed_by_the_new_one_read_from_its_start(msp, conn, workspace, tmp_path):
    path = write(tmp_path / "day.jsonl", sig(1), sig(2), sig(3))
    summary(msp, path)
    os.rename(path, str(path) + ".1")
    write(path, *(sig(n, "r") for n in range(1, 6)))  # a new file, longer than the old offset
    assert counts(summary(msp, path)) == {"read": 5, "ingested": 5, "duplicates": 0, "rejected": 0,
                                          "checkpoint_skipped": 0}
    assert checkpoint(conn, workspace, path) == (os.path.getsize(path), 5)
    assert counts(summary(msp, str(path) + ".1")) == {"read": 3, "ingested": 0, "duplicates": 3, "rejected": 0,
                                                      "checkpoint_skipped": 0}  # its own name, no checkpoint yet


def test_a_file_replaced_by_different_content_of_the_same_size_is_read_from_the_start(msp, conn, workspace,
                                                                                        tmp_path):
    path = write(tmp_path / "day.jsonl", sig(1), sig(2), sig(3))
    size = os.path.getsize(path)
    summary(msp, path)
    # in place (same inode), then by rename (another inode): same size, other events
    with open(path, "r+") as f:
        f.write("".join(json.dumps(sig(n, "x")) + "\n" for n in (1, 2, 3)))
    assert os.path.getsize(path) == size
    assert counts(summary(msp, path)) == {"read": 3, "ingested": 3, "duplicates": 0, "rejected": 0,
                                          "checkpoint_skipped": 0}
    other = write(tmp_path / "next.jsonl", sig(1, "y"), sig(2, "y"), sig(3, "y"))
    assert os.path.getsize(other) == size
    os.replace(other, path)
    assert counts(summary(msp, path)) == {"read": 3, "ingested": 3, "duplicates": 0, "rejected": 0,
                                          "checkpoint_skipped": 0}
    assert len(event_lines(conn, workspace)) == 9


def test_a_last_line_without_its_newline_is_read_again_next_time(msp, conn, workspace, tmp_path):
    path = tmp_path / "day.jsonl"
    path.write_text(json.dumps(sig(1)) + "\n" + json.dumps(sig(2)))  # the writer is mid-way through line 2
    assert counts(summary(msp, path)) == {"read": 2, "ingested": 2, "duplicates": 0, "rejected": 0,
                                          "checkpoint_skipped": 0}
    assert checkpoint(conn, workspace, path) == (len(json.dumps(sig(1))) + 1, 1)
    with open(path, "a") as f:
        f.write("\n" + json.dumps(sig(3)) + "\n")
    assert counts(summary(msp, path)) == {"read": 2, "ingested": 1, "duplicates": 1, "rejected": 0,
                                          "checkpoint_skipped": 1}
    assert checkpoint(conn, workspace, path) == (os.path.getsize(path), 3)


def test_stdin_has_no_checkpoint(msp, conn, workspace):
    lines = ev.jsonl(sig(1), sig(2))
    for expected_dups in (0, 2):
        result = msp("--format", "json", "ingest", "-", input=lines)
        assert (result.json()["duplicates"], result.json()["checkpoint_skipped"]) == (expected_dups, 0)
    assert conn.execute("SELECT count(*) FROM ingest_checkpoints WHERE workspace = %s", (workspace,)).fetchone()[0] == 0


def test_checkpoints_are_per_workspace(msp, conn, workspace, tmp_path):
    path = write(tmp_path / "day.jsonl", sig(1), sig(2))
    summary(msp, path)
    other = msp("--format", "json", "ingest", path, workspace_name=workspace + "_b").json()
    assert (other["ingested"], other["checkpoint_skipped"]) == (2, 0)


def test_a_pipe_has_no_checkpoint(msp, conn, workspace, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    import threading

    def feed():
        with open(fifo, "w") as f:
            f.write(ev.jsonl(sig(1), sig(2)))

    writer = threading.Thread(target=feed)
    writer.start()
    result = msp("--format", "json", "ingest", str(fifo))
    writer.join()
    assert (result.exit_code, result.json()["ingested"], result.json()["checkpoint_skipped"]) == (0, 2, 0), result.stderr
    assert conn.execute("SELECT count(*) FROM ingest_checkpoints WHERE workspace = %s", (workspace,)).fetchone()[0] == 0
    follow = msp("ingest", "--follow", str(fifo))
    assert follow.exit_code == 2 and follow.stderr == f"msp: error: --follow reads regular files, not {fifo}\n"
