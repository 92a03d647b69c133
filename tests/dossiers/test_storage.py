import errno

import pytest

from dossiers.records import storage


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("acte.pdf", "acte.pdf"),
        ("../../etc/passwd", "_.._etc_passwd"),
        ("..", "piece"),
        ("/absolu/fichier.xml", "_absolu_fichier.xml"),
        ("C:\\Windows\\x.pdf", "C__Windows_x.pdf"),
        ("rapport\u202efdp.exe", "rapportfdp.exe"),  # right-to-left override removed
        ("nom\x00\x1fcaché.pdf", "nomcaché.pdf"),
        ("e\u0301te\u0301.pdf", "été.pdf"),  # NFD → NFC
        ("  .cache  ", "cache"),
        ("CON.txt", "_CON.txt"),
        ("", "piece"),
        (None, "piece"),
    ],
)
def test_sanitize_component(raw, expected):
    assert storage.sanitize_component(raw, "piece") == expected


def test_long_names_are_cut_in_bytes_and_keep_their_extension():
    name = storage.sanitize_component("é" * 300 + ".pdf", "piece")
    assert name.endswith(".pdf")
    assert len(name.encode()) <= storage.MAX_NAME_BYTES
    name.encode().decode()  # still valid UTF-8


def test_unique_name_adds_a_suffix_instead_of_overwriting(tmp_path):
    (tmp_path / "acte.pdf").write_bytes(b"1")
    assert storage.unique_name(tmp_path, "acte.pdf") == "acte (2).pdf"
    assert storage.unique_name(tmp_path, "acte.pdf", taken={"acte (2).pdf"}) == "acte (3).pdf"
    assert storage.unique_name(tmp_path, "LISEZMOI") == "LISEZMOI"


def test_resolve_inside_refuses_escapes(tmp_path):
    assert storage.resolve_inside(tmp_path, "a/b.pdf") == (tmp_path / "a/b.pdf").resolve()
    for bad in ["../x", "a/../../x", "/etc/passwd", ""]:
        with pytest.raises(storage.UnsafePathError):
            storage.resolve_inside(tmp_path, bad)


def test_write_atomic_never_leaves_a_partial_final_file(tmp_path):
    final = tmp_path / "d" / "f.bin"

    def fail_midway(handle):
        handle.write(b"partial")
        raise ConnectionError("coupure")

    with pytest.raises(ConnectionError):
        storage.write_atomic(final, fail_midway)
    assert not final.exists()
    assert list((tmp_path / "d").iterdir()) == []  # temp file removed too

    assert storage.write_atomic(final, lambda h: h.write(b"complet")) == 7
    assert final.read_bytes() == b"complet"


def test_disk_full_at_the_writer_leaves_nothing(tmp_path, monkeypatch):
    real_open_temp = storage.open_temp

    def full_disk(folder):
        temp, handle = real_open_temp(folder)

        class Full:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                handle.close()

            def write(self, data):
                raise OSError(errno.ENOSPC, "No space left on device")

        return temp, Full()

    monkeypatch.setattr(storage, "open_temp", full_disk)
    with pytest.raises(OSError, match="No space left"):
        storage.write_atomic(tmp_path / "f.bin", lambda h: h.write(b"x"))
    assert list(tmp_path.iterdir()) == []


def test_remove_partial_files(tmp_path):
    (tmp_path / "DOSSIER-1").mkdir()
    (tmp_path / "DOSSIER-1" / f"{storage.TEMP_PREFIX}abc").write_bytes(b"x")
    (tmp_path / "DOSSIER-1" / "acte.pdf").write_bytes(b"x")
    assert storage.remove_partial_files(tmp_path) == 1
    assert [p.name for p in (tmp_path / "DOSSIER-1").iterdir()] == ["acte.pdf"]
