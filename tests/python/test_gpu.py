"""The CUDA backend from PyTorch (and CuPy): CUDA tensors in, CUDA tensors
out, on the caller's current stream, without a round trip through host
memory. Skipped, saying why, without a GPU, a CUDA build or the framework;
scripts/gpu_check.sh runs them on a GPU machine."""

import numpy as np
import pytest

import cuxplain

from conftest import MODEL, random_images

K = 6


def _torch_cuda():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device visible to PyTorch")
    if not cuxplain.cuda_available():
        pytest.skip(f"this cuxplain has no usable CUDA backend (built with CUDA: "
                    f"{cuxplain._core.BUILT_WITH_CUDA})")
    return torch


def weights(torch, size):
    return torch.from_numpy(np.cos(np.arange(size * K, dtype=np.float64)).reshape(-1, K))


def test_torch_cuda_tensors_on_the_current_stream():
    torch = _torch_cuda()
    images = torch.from_numpy(random_images(2, 3, 16, 16, seed=51)).cuda()
    w = weights(torch, 3 * 16 * 16).float().cuda()
    stream = torch.cuda.Stream()
    seen = []

    def model(x):
        seen.append((x.is_cuda, torch.cuda.current_stream().cuda_stream, x.data_ptr()))
        return x.reshape(len(x), -1) @ w

    with torch.cuda.stream(stream):
        got = cuxplain.sobol_attribution(model, images, [1, 4], grid_size=4, batch_size=64)
        hsic = cuxplain.hsic_attribution(model, images, [1, 4], grid_size=4, nb_design=128)
    torch.cuda.synchronize()
    assert got.is_cuda and got.dtype == torch.float32 and got.shape == (2, 4, 4)
    assert hsic.is_cuda
    # Every batch on the device, on the stream the caller made current.
    assert all(cuda and s == stream.cuda_stream for cuda, s, _ in seen)
    assert len({p for _, _, p in seen[1:]}) == 1
    host = cuxplain.sobol_attribution(lambda x: (torch.from_numpy(np.asarray(x)).cuda()
                                                 @ w).cpu().numpy(),
                                      images.cpu().numpy(), [1, 4], grid_size=4, batch_size=64)
    # The backends agree to float rounding (estimators.hpp).
    np.testing.assert_allclose(got.cpu().numpy(), host, rtol=1e-4, atol=1e-6)


def test_no_host_round_trip():
    """The CUDA profiler's host <-> device copies during a call: the
    explainer documents one small read-back per image (its count of
    non-finite outputs); a round trip of the images, batches or scores
    would add copies per batch (66 batches here)."""
    torch = _torch_cuda()
    from torch.profiler import ProfilerActivity, profile

    images = torch.from_numpy(random_images(2, 3, 32, 32, seed=52)).cuda()
    w = weights(torch, 3 * 32 * 32).float().cuda()
    model = lambda x: x.reshape(len(x), -1) @ w  # noqa: E731
    calls = []

    def counted(x):
        calls.append(len(x))
        return model(x)

    options = dict(grid_size=8, nb_design=32, batch_size=64)
    cuxplain.sobol_attribution(model, images, [0, 1], **options)  # warm up
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        cuxplain.sobol_attribution(counted, images, [0, 1], **options)
        torch.cuda.synchronize()
    copies = [e.name for e in prof.events()
              if "Memcpy" in e.name and ("DtoH" in e.name or "HtoD" in e.name)]
    assert len(calls) == 1 + 2 * 33  # the probe, then 2080 rows per image in batches of 64
    assert len(copies) <= 2 * 2, copies


def test_network_on_cuda_and_eva():
    torch = _torch_cuda()
    net = cuxplain.nn.load_onnx(MODEL, device="cuda")
    host_net = cuxplain.nn.load_onnx(MODEL)
    x = random_images(2, 1, 28, 28, seed=53)
    logits = net(torch.from_numpy(x).cuda())
    assert logits.is_cuda
    np.testing.assert_allclose(logits.cpu().numpy(), host_net(x), rtol=1e-4, atol=1e-4)
    eva = cuxplain.eva_attribution(net, torch.from_numpy(x).cuda(), [0, 1], grid_size=7)
    np.testing.assert_allclose(eva.cpu().numpy(),
                               cuxplain.eva_attribution(host_net, x, [0, 1], grid_size=7),
                               rtol=1e-3, atol=1e-4)


def test_a_cuda_model_exception_and_host_scores_are_refused():
    torch = _torch_cuda()
    images = torch.from_numpy(random_images(1, 1, 8, 8, seed=54)).cuda()
    with pytest.raises(cuxplain.Error, match="model returned an array on cpu for a batch on cuda"):
        cuxplain.sobol_attribution(lambda x: np.zeros((len(x), K), np.float32), images, [0],
                                   num_outputs=K, grid_size=2)

    def failing(x):
        raise MemoryError("device full")

    with pytest.raises(MemoryError, match="device full"):
        cuxplain.sobol_attribution(failing, images, [0], num_outputs=K, grid_size=2)
    ok = cuxplain.sobol_attribution(lambda x: x.reshape(len(x), -1)[:, :K].contiguous(), images,
                                    [0], grid_size=2)
    assert ok.is_cuda


def test_upsample_bicubic_tensorflow_on_cuda_equals_the_host():
    torch = _torch_cuda()
    cells = torch.rand(3, 7, 7, generator=torch.Generator().manual_seed(5))
    got = cuxplain.upsample(cells.cuda(), (28, 20), "bicubic_tensorflow")
    assert got.is_cuda
    assert np.array_equal(got.cpu().numpy(),
                          cuxplain.upsample(cells.numpy(), (28, 20), "bicubic_tensorflow"))


def test_cupy_arrays():
    cupy = pytest.importorskip("cupy", reason="CuPy is not installed")
    if not cuxplain.cuda_available():
        pytest.skip("this cuxplain has no usable CUDA backend")
    images = cupy.asarray(random_images(1, 1, 12, 12, seed=55))
    got = cuxplain.sobol_attribution(lambda x: x.reshape(len(x), -1)[:, :K] * 2, images, [3],
                                     grid_size=3)
    assert isinstance(got, cupy.ndarray) and got.shape == (1, 3, 3)
