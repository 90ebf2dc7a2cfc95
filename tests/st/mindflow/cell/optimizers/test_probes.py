# Copyright 2026 Huawei Technologies Co., Ltd
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
# http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
# ============================================================================
"""Counter-based probes: values, balance, independence, reproducibility, mode independence.

The probes are a deterministic hash of (seed, counter, stream, index), so every statistical bound
below is checked on fixed numbers: a pass or a failure always repeats.
"""
import numpy as np
import pytest
from scipy import stats
import mindspore as ms
from mindspore import Tensor
from device_tolerance import tolerance

from mindflow.cell.optimizers import draw_probes, gaussian_probe, rademacher_probe
from mindflow.cell.optimizers.probes import (bits_transform, flat_layout, graph_stream_keys, host_stream_keys,
                                            probe_set_from_keys)
from mindflow.cell.optimizers.probes import _piece_starts, _word_count  # pylint: disable=protected-access

SIZE = 100_000
# 4 standard deviations of a mean (or correlation) of SIZE independent unit-variance values
BOUND = 4.0 / np.sqrt(SIZE)


def _rademacher(shape=(SIZE,), seed=0, counter=0, stream=0):
    return rademacher_probe(shape, seed, counter, stream).asnumpy()


def _correlation(first, second):
    return float(np.corrcoef(first.ravel(), second.ravel())[0, 1])


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
@pytest.mark.parametrize("shape", [(), (1,), (7,), (3, 5), (2, 3, 4), (2, 1, 3, 2, 2)])
def test_rademacher_values_are_plus_minus_one(shape):
    """
    Feature: Rademacher probe.
    Description: draw probes of 0-D to 5-D shapes.
    Expectation: the requested shape, float32, every element exactly +1 or -1.
    """
    probe = rademacher_probe(shape, 3, 1, (0, 0, 0))
    assert probe.shape == shape
    assert probe.dtype == ms.float32
    values = probe.asnumpy()
    assert np.all(np.abs(values) == 1.0)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_rademacher_dtype_argument():
    """
    Feature: Rademacher probe dtype.
    Description: request float16 and float64 probes.
    Expectation: the requested dtype with the same +-1 values as the float32 probe.
    """
    reference = _rademacher((64,), seed=5)
    for dtype in (ms.float16, ms.float64):
        probe = rademacher_probe((64,), 5, 0, 0, dtype=dtype)
        assert probe.dtype == dtype
        np.testing.assert_array_equal(probe.asnumpy().astype(np.float32), reference)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_rademacher_balance_and_neighbours():
    """
    Feature: Rademacher probe balance.
    Description: 1e5 elements of one probe, and 1e5 draws of a single element over counters 0..1e5-1 (taken
        from a few shapes), for several seeds.
    Expectation: the mean is within 4/sqrt(n) of 0; neighbouring elements are uncorrelated (lag-1 and lag-2
        correlation within 4/sqrt(n)); a probe is not constant along any axis of a 2-D draw.
    """
    for seed in (0, 1, 12345):
        values = _rademacher(seed=seed)
        assert abs(values.mean()) < BOUND
        assert abs(_correlation(values[1:], values[:-1])) < BOUND
        assert abs(_correlation(values[2:], values[:-2])) < BOUND
    grid = _rademacher((316, 316), seed=7)
    assert abs(grid.mean()) < BOUND
    assert abs(_correlation(grid[1:, :], grid[:-1, :])) < BOUND
    assert abs(_correlation(grid[:, 1:], grid[:, :-1])) < BOUND


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_rademacher_over_counters():
    """
    Feature: Rademacher probe over refreshes.
    Description: probes drawn inside mindspore.jit for counters 0..255 (a Tensor counter, as in the
        optimizer): the single element of a 0-D probe (what a scalar parameter sees across refreshes) and
        probes of 256 elements.
    Expectation: the scalar series is balanced and uncorrelated from one counter to the next (within 4
        standard deviations); the 256-element probes of different counters are pairwise uncorrelated
        (every |correlation| below 6/sqrt(256)) and all distinct.
    """
    count, width = 256, 256

    @ms.jit
    def draw(counter):
        return rademacher_probe((), 11, counter, (0, 0, 0)), rademacher_probe((width,), 11, counter, (1, 0, 0))

    scalars, vectors = [], []
    for counter in range(count):
        scalar, vector = draw(Tensor([counter], ms.int32))
        scalars.append(float(scalar.asnumpy()))
        vectors.append(vector.asnumpy())
    scalars, vectors = np.array(scalars), np.array(vectors)
    bound = 4.0 / np.sqrt(count)
    assert np.all(np.abs(scalars) == 1.0)
    assert abs(scalars.mean()) < bound
    assert abs(_correlation(scalars[1:], scalars[:-1])) < bound
    correlations = np.corrcoef(vectors)[np.triu_indices(count, 1)]
    assert np.max(np.abs(correlations)) < 6.0 / np.sqrt(width)
    assert len({v.tobytes() for v in vectors}) == count
    np.testing.assert_array_equal(vectors[5], _rademacher((width,), seed=11, counter=5, stream=(1, 0, 0)))


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
@pytest.mark.parametrize("other", [
    {"stream": (1, 0, 0)},      # another parameter
    {"stream": (0, 1, 0)},      # another probe sample
    {"stream": (0, 0, 1)},      # another data-parallel rank
    {"counter": 1},             # the next refresh
    {"counter": 1000},
    {"seed": 1},                # another seed
])
def test_rademacher_streams_are_independent(other):
    """
    Feature: Rademacher probe streams.
    Description: the probe of (seed 0, counter 0, stream (0, 0, 0)) against one that differs in the parameter
        index, the sample index, the rank stream, the counter or the seed.
    Expectation: correlation within 4/sqrt(n) of 0, and about half of the elements differ.
    """
    args = {"seed": 0, "counter": 0, "stream": (0, 0, 0)}
    base = _rademacher(**args)
    args.update(other)
    changed = _rademacher(**args)
    assert abs(_correlation(base, changed)) < BOUND
    assert abs(np.mean(base != changed) - 0.5) < BOUND / 2


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_probes_are_reproducible():
    """
    Feature: Probe reproducibility.
    Description: draw the same probes twice, with python ints and with Tensors for seed (int64 0-D) and
        counter (int32 [1], as the optimizer keeps it), for both distributions.
    Expectation: bit-identical results; a different seed gives a different probe.
    """
    shape = (4, 5, 6)
    for probe_fn in (rademacher_probe, gaussian_probe):
        first = probe_fn(shape, 42, 7, (2, 1, 0)).asnumpy()
        again = probe_fn(shape, 42, 7, (2, 1, 0)).asnumpy()
        as_tensors = probe_fn(shape, Tensor(42, ms.int64), Tensor([7], ms.int32), (2, 1, 0)).asnumpy()
        np.testing.assert_array_equal(first, again)
        np.testing.assert_array_equal(first, as_tensors)
        other_seed = probe_fn(shape, 43, 7, (2, 1, 0)).asnumpy()
        assert np.mean(first != other_seed) > 0.3


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_probes_same_inside_jit():
    """
    Feature: Probes in GRAPH mode.
    Description: draw_probes (Rademacher and Gaussian) inside mindspore.jit with Tensor seed and counter,
        against the same draws in PYNATIVE mode.
    Expectation: bit-identical probes.
    """
    shapes = ((3,), (2, 4), ())

    @ms.jit
    def jitted(seed, counter):
        rademacher = draw_probes(shapes, seed, counter, 2, rademacher_probe, 1)
        gaussian = draw_probes(shapes, seed, counter, 1, gaussian_probe, 0)
        return rademacher, gaussian

    seed, counter = Tensor(9, ms.int64), Tensor([3], ms.int32)
    rademacher, gaussian = jitted(seed, counter)
    for sample in range(2):
        for index, shape in enumerate(shapes):
            expected = rademacher_probe(shape, 9, 3, (index, sample, 1)).asnumpy()
            np.testing.assert_array_equal(rademacher[sample][index].asnumpy(), expected)
    for index, shape in enumerate(shapes):
        expected = gaussian_probe(shape, 9, 3, (index, 0, 0)).asnumpy()
        np.testing.assert_array_equal(gaussian[0][index].asnumpy(), expected)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_gaussian_moments_and_distribution():
    """
    Feature: Gaussian probe.
    Description: 1e5 draws for two seeds.
    Expectation: finite float32 values; mean within 4/sqrt(n) of 0, variance within 4 sqrt(2/n) of 1,
        kurtosis near 3, and a Kolmogorov-Smirnov test against N(0, 1) does not reject (p > 1e-3);
        uncorrelated with the probe of the next counter.
    """
    for seed in (0, 77):
        probe = gaussian_probe((SIZE,), seed, 0, (0, 0, 0))
        assert probe.dtype == ms.float32
        values = probe.asnumpy().astype(np.float64)
        assert np.all(np.isfinite(values))
        assert abs(values.mean()) < BOUND
        assert abs(values.var() - 1.0) < 4.0 * np.sqrt(2.0 / SIZE)
        assert abs(stats.kurtosis(values, fisher=False) - 3.0) < 0.1
        assert stats.kstest(values, "norm").pvalue > 1e-3
        next_counter = gaussian_probe((SIZE,), seed, 1, (0, 0, 0)).asnumpy()
        assert abs(_correlation(values, next_counter)) < BOUND


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_draw_probes_layout():
    """
    Feature: draw_probes.
    Description: a recording probe_fn, and the default probe_fn.
    Expectation: num_samples tuples of one probe per shape; probe_fn called with (shape, seed, counter,
        (parameter index, sample index, stream)); the default is the Rademacher probe of that stream.
    """
    calls = []

    def recording_probe(shape, seed, counter, stream):
        calls.append((shape, seed, counter, stream))
        return Tensor(np.zeros(shape, np.float32))

    shapes = [(2,), (3, 1)]
    probes = draw_probes(shapes, 5, 6, 3, recording_probe, 2)
    assert len(probes) == 3 and all(len(sample) == 2 for sample in probes)
    assert sorted(calls) == sorted(((tuple(s), 5, 6, (i, k, 2)) for k in range(3) for i, s in enumerate(shapes)))
    default = draw_probes(shapes, 5, 6, 2)
    for sample in range(2):
        for index, shape in enumerate(shapes):
            assert default[sample][index].shape == shape
            np.testing.assert_array_equal(default[sample][index].asnumpy(),
                                          rademacher_probe(shape, 5, 6, (index, sample, 0)).asnumpy())


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
@pytest.mark.parametrize("probe_fn", [rademacher_probe, gaussian_probe], ids=["rademacher", "gaussian"])
@pytest.mark.parametrize("shapes", [((4, 3), (), (2, 1, 3, 2, 2), (7,)), ((5,),), ((3,), (0, 2), (2,))],
                         ids=["mixed", "single", "with_empty"])
def test_batched_draw_equals_per_shape_draws(probe_fn, shapes):
    """
    Feature: packed probe sets from stream keys derived inside a graph (AdaHessian inside a user's compiled step).
    Description: graph_stream_keys and probe_set_from_keys in one compiled function, with a Tensor seed and
        counter, for shapes of 0-D to 5-D and a single shape, two samples on stream 3; and draw_probes (per shape).
    Expectation: every probe equals probe_fn(shape, seed, counter, (index, sample, 3)): bit for bit for Rademacher;
        for Gaussian the hashed bits are the same and the float transform (log, cos) may round differently over a
        longer vector, so within 1e-5 relative. The keys equal host_stream_keys.
    """
    seed, counter = Tensor(11, ms.int64), Tensor([4], ms.int32)
    drawn = draw_probes(shapes, seed, counter, 2, probe_fn, 3)
    transform = bits_transform(probe_fn)
    packed = None
    if all(np.prod(shape, dtype=np.int64) > 0 for shape in shapes):
        index, segment = flat_layout(shapes, transform)

        @ms.jit
        def draw(seed, counter, index, segment):
            samples = ()
            for sample in range(2):
                keys = graph_stream_keys(seed, counter, len(shapes), sample, 3)
                samples += ((keys,) + probe_set_from_keys(transform, shapes, keys, index, segment),)
            return samples
        packed = draw(seed, counter, Tensor(index), Tensor(segment))
    for sample in range(2):
        if packed is not None:
            np.testing.assert_array_equal(packed[sample][0].asnumpy(), host_stream_keys(11, 4, len(shapes), sample, 3))
        for index, shape in enumerate(shapes):
            expected = probe_fn(shape, 11, 4, (index, sample, 3)).asnumpy()
            candidates = [drawn[sample][index]] + ([packed[sample][index + 1]] if packed is not None else [])
            for probe in candidates:
                assert probe.shape == shape
                if probe_fn is rademacher_probe:
                    np.testing.assert_array_equal(probe.asnumpy(), expected)
                else:
                    np.testing.assert_allclose(probe.asnumpy(), expected, **tolerance(1e-5, 1e-6))


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
@pytest.mark.parametrize("probe_fn", [rademacher_probe, gaussian_probe], ids=["rademacher", "gaussian"])
@pytest.mark.parametrize("seed, counter, stream", [(0, 0, 0), (11, 4, 3), (2 ** 40 + 3, 2 ** 31 - 1, 7)])
def test_host_stream_keys_give_the_same_probes(probe_fn, seed, counter, stream):
    """
    Feature: stream keys derived on the host (AdaHessian's plain call does so for the built-in probes).
    Description: host_stream_keys (NumPy) for 4 shapes of 0-D to 3-D and two samples, then probe_set_from_keys
        in a compiled function with the flat_layout of the shapes; seeds up to 2**40 + 3 (only the low 32 bits
        count), counters up to 2**31 - 1, three streams.
    Expectation: every probe equals probe_fn(shape, seed, counter, (index, sample, stream)): bit for bit for
        Rademacher, within 1e-5 for Gaussian (its float transform may round differently over a longer vector).
    """
    shapes = ((4, 3), (), (2, 1, 3), (7,))
    transform = bits_transform(probe_fn)
    index, segment = flat_layout(shapes, transform)

    @ms.jit
    def draw(keys, index, segment):
        return probe_set_from_keys(transform, shapes, keys, index, segment)

    for sample in range(2):
        keys = host_stream_keys(seed, counter, len(shapes), sample, stream)
        assert keys.dtype == np.int64 and keys.shape == (len(shapes),)
        probes = draw(Tensor(keys), Tensor(index), Tensor(segment))
        for position, shape in enumerate(shapes):
            expected = probe_fn(shape, seed, counter, (position, sample, stream)).asnumpy()
            assert probes[position].shape == shape
            if probe_fn is rademacher_probe:
                np.testing.assert_array_equal(probes[position].asnumpy(), expected)
            else:
                np.testing.assert_allclose(probes[position].asnumpy(), expected, **tolerance(1e-5, 1e-6))


# Sizes around 2**24 and 2**25, where float32 stops holding every integer: multiples of 32 and not.
_LARGE_SIZES = (2**24 - 33, 2**24 - 1, 2**24, 2**24 + 1, 2**24 + 31, 2**24 + 32, 2**24 + 33, 2**25 - 32, 2**25 - 1,
                2**25, 2**25 + 1, 2**25 + 33, 3 * 2**24 + 5)


@pytest.mark.level0
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
@pytest.mark.parametrize("probe_fn", [rademacher_probe, gaussian_probe], ids=["rademacher", "gaussian"])
def test_probe_layout_at_large_sizes(probe_fn):
    """
    Feature: the flat layout of a probe set, as the graph compiler computes it, for tensors beyond 2**24 elements.
    Description: word counts and piece starts of shapes whose sizes lie around 2**24 and 2**25, computed inside a
        compiled function (no probe is drawn, nothing large is allocated) and by flat_layout on the host.
    Expectation: both equal the per-element definition: element j of shape i is value j of shape i's words
        (per_word values to a word), so shape i has ceil(size_i / per_word) words and starts per_word times the
        words of the shapes before it (in 2.10 the compiler's // of Python ints went through float32 and gave
        524289 words for 2**24 values).
    """
    per_word = bits_transform(probe_fn)[1]
    shapes = tuple((size,) for size in _LARGE_SIZES)
    words = [-(-size // per_word) for size in _LARGE_SIZES]
    starts = [per_word * sum(words[:i]) for i in range(len(words))]

    @ms.jit
    def compiled_layout(anchor):
        counts = ()
        for shape in shapes:
            counts += (_word_count(shape[0], per_word),)
        return anchor, counts, _piece_starts(shapes, per_word)

    _, counts, graph_starts = compiled_layout(Tensor(0, ms.int32))
    assert [int(c) for c in counts] == words
    assert [int(s) for s in graph_starts] == starts
    index, segment = flat_layout([(size,) for size in _LARGE_SIZES[:3]], bits_transform(probe_fn))
    assert np.bincount(segment).tolist() == words[:3]
    assert all(np.array_equal(index[segment == i], np.arange(count)) for i, count in enumerate(words[:3]))


@pytest.mark.level1
@pytest.mark.platform_x86_cpu
@pytest.mark.platform_x86_gpu_training
@pytest.mark.platform_arm_ascend_training
@pytest.mark.env_onecard
def test_probe_set_with_a_2_pow_24_element_parameter():
    """
    Feature: probes for a parameter of exactly 2**24 elements followed by a small one (a 4096 x 4096 Dense and its
        bias), drawn as AdaHessian draws them (one flat vector from host keys) inside a compiled function.
    Description: probe_set_from_keys for shapes (4096, 4096) and (10,), against rademacher_probe per shape.
    Expectation: the shapes are right and both probes equal the per-shape draws of their streams (i, 0, 0).
    """
    shapes = ((4096, 4096), (10,))
    transform = bits_transform(rademacher_probe)
    index, segment = flat_layout(shapes, transform)
    keys = Tensor(host_stream_keys(7, 3, len(shapes), 0, 0))

    @ms.jit
    def draw(stream_keys, flat_index, flat_segment):
        return probe_set_from_keys(transform, shapes, stream_keys, flat_index, flat_segment)

    probes = draw(keys, Tensor(index), Tensor(segment))
    assert [p.shape for p in probes] == list(shapes)
    for i, shape in enumerate(shapes):
        np.testing.assert_array_equal(probes[i].asnumpy(), rademacher_probe(shape, 7, 3, (i, 0, 0)).asnumpy())
