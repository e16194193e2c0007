"""Own data files: points as they are, images scaled to [-1, 1] with a note, and one-line errors."""

from pathlib import Path

import numpy as np
import pytest

from jaxbngan.config import ConfigError
from jaxbngan.data import data_kind, is_data_file, load_data_file


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def saved(path: Path, array: np.ndarray) -> str:
    np.save(path, array)
    return str(path)


def test_points_load_as_float_arrays(tmp_path):
    header = write(tmp_path / "header.csv", "x,y\n1,2\n3,4\n5,6\n")
    bare = write(tmp_path / "bare.csv", "1,2,3\n4,5,6\n")
    np.savez(tmp_path / "named.npz", points=np.arange(8).reshape(4, 2), labels=np.arange(4).reshape(4, 1))
    np.testing.assert_array_equal(load_data_file(header), [[1, 2], [3, 4], [5, 6]])
    assert load_data_file(bare).shape == (2, 3)
    named = load_data_file(f"{tmp_path / 'named.npz'}:points")
    assert named.dtype == np.float32 and named.shape == (4, 2) and data_kind(named.shape) == "points"
    ints = load_data_file(saved(tmp_path / "ints.npy", np.arange(6).reshape(3, 2) * 100))
    np.testing.assert_array_equal(ints, np.arange(6).reshape(3, 2) * 100)  # points are never rescaled
    assert ints.dtype == np.float32
    assert is_data_file("x.npz:points") and is_data_file("a.CSV") and not is_data_file("ring8")


def test_one_column_is_1d_data_with_a_note_and_two_rows_are_the_least(tmp_path, capsys):
    column = load_data_file(write(tmp_path / "column.csv", "1\n2\n3\n"))
    assert column.shape == (3, 1)
    assert "column.csv: one column, learned as 1-D data" in capsys.readouterr().err
    assert load_data_file(saved(tmp_path / "two.npy", np.zeros((2, 2)))).shape == (2, 2)
    with pytest.raises(ConfigError, match="has 1 rows; at least 2 are needed"):
        load_data_file(saved(tmp_path / "one.npy", np.zeros((1, 2))))


def test_uint8_grey_images_gain_a_channel_and_are_scaled_with_a_note(tmp_path, capsys):
    pixels = np.arange(5 * 6 * 7).reshape(5, 6, 7).astype(np.uint8)
    pixels[0, 0, 0], pixels[0, 0, 1] = 0, 255
    np.savez(tmp_path / "mnist.npz", x_train=pixels, y_train=np.arange(5))
    images = load_data_file(f"{tmp_path / 'mnist.npz'}:x_train")
    assert images.shape == (5, 6, 7, 1) and images.dtype == np.float32 and data_kind(images.shape) == "images"
    np.testing.assert_array_equal(images[..., 0], pixels.astype(np.float32) / np.float32(127.5) - 1)
    assert images.min() == -1.0 and images.max() == 1.0
    note = capsys.readouterr().err
    assert "mnist.npz:x_train: 5 images 6x7x1 of uint8 in [0, 255]; pixels as 8-bit values by x / 127.5 - 1" in note


@pytest.mark.parametrize(
    ("values", "expected", "how"),
    [
        (np.array([0.0, 0.25, 1.0]), np.array([-1.0, -0.5, 1.0]), "from [0, 1] by 2x - 1"),
        (np.array([-0.5, 0.0, 0.75]), np.array([-0.5, 0.0, 0.75]), "kept as they are (already in [-1, 1])"),
        (np.array([-3.0, 1.0, 5.0]), np.array([-1.0, 0.0, 1.0]), "from [-3, 5] by 2 (x - min) / (max - min) - 1"),
        (np.array([1000, 1500, 2000]), np.array([-1.0, 0.0, 1.0]), "from [1000, 2000] by 2 (x - min)"),
        (np.array([0, 51, 255], dtype=np.int64), np.array([-1.0, -0.6, 1.0]), "as 8-bit values"),
    ],
)
def test_float_and_integer_images_are_scaled_by_their_range(tmp_path, capsys, values, expected, how):
    # Two 2x2 RGB images whose pixels take the three values; expected values are exact in float32.
    images = np.resize(values, (2, 2, 2, 3))
    loaded = load_data_file(saved(tmp_path / "rgb.npy", images))
    assert loaded.shape == (2, 2, 2, 3) and loaded.dtype == np.float32
    np.testing.assert_allclose(loaded, np.resize(expected, (2, 2, 2, 3)), rtol=0, atol=1e-6)  # float32 rounding
    assert how in capsys.readouterr().err


@pytest.mark.parametrize(
    ("array", "words"),
    [
        (np.zeros((2, 3, 3, 3, 1)), ["bad.npy", "(n, d) points or (n, H, W[, C]) images", "(2, 3, 3, 3, 1)"]),
        (np.zeros(10), ["bad.npy", "(10,)"]),
        (np.zeros((0, 8, 8)), ["bad.npy", "has 0 images; at least 2 are needed"]),
        (np.zeros((1, 8, 8)), ["has 1 images; at least 2"]),
        (np.zeros((4, 3, 28, 28)), ["(3, 28, 28)", "channels last", "np.moveaxis(x, 1, -1)"]),
        (np.zeros((4, 1, 8)), ["H, W >= 2"]),
        (np.where(np.arange(4 * 16).reshape(4, 4, 4) == 40, np.nan, 0.5), ["image 3 holds NaN or inf (1 such"]),
        (np.full((3, 4, 4), 7.0), ["every pixel is 7; nothing to learn"]),
        (np.zeros((3, 4, 4), dtype=bool), ["holds bool values; expected real numbers"]),
    ],
)
def test_bad_image_arrays_are_one_line_errors(tmp_path, array, words):
    with pytest.raises(ConfigError) as error:
        load_data_file(saved(tmp_path / "bad.npy", array))
    assert all(word in str(error.value) for word in words), str(error.value)
    assert "\n" not in str(error.value)


def test_unreadable_files_and_members_are_one_line_errors(tmp_path):
    empty = tmp_path / "empty.npy"
    empty.write_bytes(b"")
    np.savez(tmp_path / "mnist.npz", x_train=np.zeros((3, 4, 4), np.uint8), y_train=np.arange(3))
    cases = [
        (str(empty), ["empty.npy: cannot read it as npy"]),
        (f"{tmp_path / 'mnist.npz'}:x_test", ["mnist.npz: has no array 'x_test'; it holds x_train, y_train"]),
        (str(tmp_path / "mnist.npz"), ["holds 2 arrays (x_train, y_train); pick one"]),
        (f"{tmp_path / 'mnist.npz'}:y_train", ["mnist.npz:y_train: expected (n, d) points", "(3,)"]),
        (str(tmp_path / "gone.npy"), ["gone.npy: no such file"]),
        (write(tmp_path / "data.txt", "1 2\n"), ["data.txt: unsupported file type .txt"]),
    ]
    for source, words in cases:
        with pytest.raises(ConfigError) as error:
            load_data_file(source)
        assert all(word in str(error.value) for word in words), str(error.value)
        assert "\n" not in str(error.value)
