# Copyright (c) off_plugin authors. All rights reserved.
import pytest
import torch

from off_plugin.core import OFFUnit


def identity_unit(**kwargs) -> OFFUnit:
    """A one-channel OFF unit whose 1x1 reduction is the identity, so its
    output can be checked against hand-computed gradients."""
    unit = OFFUnit(in_channels=1, reduce_channels=1, act_cfg=None, **kwargs)
    with torch.no_grad():
        unit.reduce.conv.weight.fill_(1.)
        unit.reduce.conv.bias.zero_()
    return unit


def gradient_scale(kernel: torch.Tensor) -> float:
    """Response of a 3x3 cross-correlation kernel to f(x, y) = x, i.e. the
    factor between the kernel's output and df/dx (6 for the paper's F_x)."""
    return float((kernel * torch.tensor([-1., 0., 1.])).sum())


def grid(h: int, w: int):
    """Pixel coordinates with x to the right and y up."""
    rows, cols = torch.meshgrid(
        torch.arange(h, dtype=torch.float64),
        torch.arange(w, dtype=torch.float64),
        indexing='ij')
    return cols, -rows


def test_horizontal_ramp_has_constant_fx_and_zero_fy():
    unit = identity_unit().double()
    x, y = grid(12, 16)
    ramp = (0.5 * x + 3.).view(1, 1, 12, 16)
    out = unit([ramp, ramp])  # (1, 1, 3, 12, 16): Fx, Fy, Ft
    fx, fy, ft = out[0, 0, :, 1:-1, 1:-1]
    assert torch.allclose(fx, torch.full_like(fx, 6 * 0.5))
    assert torch.allclose(fy, torch.zeros_like(fy))
    assert torch.allclose(ft, torch.zeros_like(ft))
    # The kernels' scale is what the formula says: 6 * slope.
    assert gradient_scale(unit.spatial_kernels[0, 0]) == 6.


def test_vertical_ramp_gives_fy_with_y_up():
    unit = identity_unit().double()
    x, y = grid(10, 10)
    ramp = (2. * y).view(1, 1, 10, 10)
    fx, fy, _ = unit([ramp, ramp])[0, 0, :, 1:-1, 1:-1]
    assert torch.allclose(fx, torch.zeros_like(fx))
    assert torch.allclose(fy, torch.full_like(fy, 6 * 2.))


def test_combined_kernel_adds_x_and_y_gradients():
    unit = identity_unit(kernel='combined').double()
    assert unit.out_channels == 2
    x, y = grid(10, 10)
    ramp = (1.5 * x + 0.25 * y).view(1, 1, 10, 10)
    fxy, ft = unit([ramp, ramp])[0, 0, :, 1:-1, 1:-1]
    assert torch.allclose(fxy, torch.full_like(fxy, 2 * (1.5 + 0.25)))


def test_swapping_frames_flips_temporal_difference():
    unit = OFFUnit(in_channels=8, reduce_channels=16)
    a, b = torch.randn(2, 2, 8, 9, 9).unbind(1)
    forward = unit([a, b])
    backward = unit([b, a])
    ft_forward = forward[:, 0, 32:]
    assert ft_forward.abs().max() > 0.1
    assert torch.allclose(backward[:, 0, 32:], -ft_forward)
    # F_t is f_{t+1} - f_t of the reduced features.
    reduced = unit.reduce(torch.cat([a, b]))
    assert torch.allclose(ft_forward, reduced[2:] - reduced[:2], atol=1e-6)


def translated_pattern(h, w, vx, vy, t):
    """A smooth pattern moved by t * (vx, vy) pixels (x right, y up)."""
    x, y = grid(h, w)
    x, y = x - t * vx, y - t * vy
    return (torch.sin(0.31 * x + 0.17 * y) +
            0.5 * torch.cos(0.13 * x - 0.23 * y)).view(1, 1, h, w)


@pytest.mark.parametrize('vx,vy', [(0.4, 0.), (0., -0.3), (0.3, 0.25)])
def test_brightness_constancy_holds_for_translation(vx, vy):
    unit = identity_unit().double()
    frames = [translated_pattern(32, 32, vx, vy, t) for t in (0, 1)]
    fx, fy, ft = unit(frames)[0, 0, :, 2:-2, 2:-2]
    scale = gradient_scale(unit.spatial_kernels[0, 0])
    residual = (fx * vx + fy * vy) / scale + ft  # Eq. 4
    rms = lambda t: float(t.pow(2).mean().sqrt())  # noqa: E731
    assert rms(ft) > 0.02  # the frames do differ...
    assert rms(residual) < 0.15 * rms(ft)  # ...and Eq. 4 explains it
    # A wrong velocity does not satisfy the constraint.
    wrong = (fx * vy - fy * vx) / scale + ft
    assert rms(wrong) > 0.5 * rms(ft)


def test_sequence_pairs_adjacent_segments_of_the_same_video():
    torch.manual_seed(0)
    unit = OFFUnit(in_channels=6, reduce_channels=4).eval()
    feats = torch.randn(3, 5, 6, 7, 7)  # 3 videos, 5 segments
    out = unit(feats)
    assert out.shape == (3, 4, unit.out_channels, 7, 7)
    for n in range(3):
        for t in range(4):
            pair = unit(feats[n:n + 1, t:t + 2])[0, 0]
            assert torch.allclose(out[n, t], pair, atol=1e-6)


def test_lower_level_features_are_concatenated_unchanged():
    unit = OFFUnit(in_channels=4, reduce_channels=8, lower_channels=5)
    assert unit.out_channels == 8 * 2 + 8 + 5
    feats = torch.randn(2, 3, 4, 6, 6)
    lower = torch.randn(2, 2, 5, 6, 6)
    out = unit(feats, lower)
    assert torch.equal(out[:, :, -5:], lower)


def test_gradients_reach_reduction_and_nothing_else_is_learned():
    unit = OFFUnit(in_channels=4, reduce_channels=8)
    assert [name for name, _ in unit.named_parameters()
            ] == ['reduce.conv.weight', 'reduce.conv.bias']
    assert set(unit.state_dict()) == {'reduce.conv.weight', 'reduce.conv.bias'}

    optimizer = torch.optim.SGD(unit.parameters(), lr=0.1)
    weight = unit.reduce.conv.weight.detach().clone()
    unit(torch.randn(2, 3, 4, 6, 6)).pow(2).mean().backward()
    assert unit.reduce.conv.weight.grad.abs().sum() > 0
    optimizer.step()
    assert not torch.equal(unit.reduce.conv.weight, weight)


@pytest.mark.parametrize('kernel', ['sobel', 'combined'])
@pytest.mark.parametrize('size', [(5, 7), (2, 3), (1, 1)])
def test_spatial_gradients_equal_the_depthwise_convolution(kernel, size):
    """The shifted differences compute exactly the kernels the unit
    declares (and the Caffe converter checks): their depthwise convolution
    with zero padding, channel by channel."""
    unit = OFFUnit(in_channels=4, reduce_channels=4, kernel=kernel)
    assert unit.spatial_kernels.shape == (unit.num_kernels * 4, 1, 3, 3)
    x = torch.randn(2, 3, 4, *size, dtype=torch.float64)
    feats = torch.cat([x, x[:, -1:]], dim=1)  # pairs (t, t+1) for t < 3
    unit.reduce = torch.nn.Identity()
    got = unit.gradients(feats)
    conv = torch.nn.functional.conv2d(
        x.flatten(0, 1), unit.spatial_kernels.double(), padding=1,
        groups=4).unflatten(0, (2, 3)).unflatten(2, (4, unit.num_kernels))
    for k, name in enumerate(unit.spatial_names):
        torch.testing.assert_close(got[name], conv[:, :, :, k])


@pytest.mark.parametrize('kwargs,channels', [
    (dict(), 3 * 128),
    (dict(spatial=False), 128),
    (dict(temporal=False), 2 * 128),
    (dict(kernel='combined', spatial_channels=32), 32 + 128),
    (dict(temporal=False, spatial_channels=32), 2 * 32),
])
def test_ablations_and_authors_variant_have_documented_channels(
        kwargs, channels):
    unit = OFFUnit(in_channels=16, **kwargs)
    assert unit.out_channels == channels
    out = unit(torch.randn(2, 3, 16, 5, 5))
    assert out.shape == (2, 2, channels, 5, 5)


def test_temporal_only_unit_ignores_appearance():
    unit = OFFUnit(in_channels=4, spatial=False)
    still = torch.randn(1, 1, 4, 6, 6).expand(1, 3, 4, 6, 6)
    assert unit(still).abs().max() == 0


@pytest.mark.parametrize('feats,lower,message', [
    (torch.randn(2, 3, 5, 6, 6), None, 'in_channels=5'),
    (torch.randn(2, 1, 4, 6, 6), None, 'T >= 2'),
    (torch.randn(2, 4, 6, 6), None, '(N, T, C, H, W)'),
    (torch.randn(2, 3, 4, 6, 6), torch.randn(2, 3, 2, 6,
                                             6), 'lower_channels=0'),
])
def test_bad_inputs_give_clear_errors(feats, lower, message):
    unit = OFFUnit(in_channels=4)
    with pytest.raises(
            ValueError, match=message.replace('(', r'\(').replace(')', r'\)')):
        unit(feats, lower)


def test_lower_level_shape_mismatch_is_reported():
    unit = OFFUnit(in_channels=4, lower_channels=3)
    with pytest.raises(ValueError, match=r'\(2, 2, 3, 6, 6\)'):
        unit(torch.randn(2, 3, 4, 6, 6), torch.randn(2, 2, 3, 3, 3))


def test_bad_configs_are_rejected():
    with pytest.raises(ValueError, match='kernel'):
        OFFUnit(in_channels=4, kernel='prewitt')
    with pytest.raises(ValueError, match='nothing to compute'):
        OFFUnit(in_channels=4, spatial=False, temporal=False)


def test_unit_follows_the_module_to_another_dtype():
    unit = OFFUnit(in_channels=2)
    feats = torch.randn(1, 2, 2, 4, 4)
    single = unit(feats)
    double = unit.double()(feats.double())
    assert double.dtype == torch.float64
    torch.testing.assert_close(double.float(), single)


@pytest.mark.parametrize('variant', [
    dict(lower_channels=3),
    dict(kernel='combined', spatial_channels=2, spatial_dropout=0.5),
    dict(spatial=False),
])
def test_compiled_unit_equals_the_eager_unit(variant):
    """``compile=True`` (opt-in by config) changes how the OFF is computed,
    not what: the same outputs and the same gradients of the reduction, in
    training (dropout drawn from the same seed) and in testing."""
    torch.manual_seed(0)
    eager = OFFUnit(in_channels=4, reduce_channels=5, **variant)
    compiled = OFFUnit(
        in_channels=4, reduce_channels=5, compile=True, **variant)
    compiled.load_state_dict(eager.state_dict())
    feats = torch.randn(2, 3, 4, 6, 8)
    lower = torch.randn(2, 2, 3, 6, 8) if 'lower_channels' in variant \
        else None
    outs = {}
    for name, unit in (('eager', eager), ('compiled', compiled)):
        unit.eval()
        with torch.no_grad():
            tested = unit(feats, lower)
        unit.train()
        torch.manual_seed(1)
        out = unit(feats, lower)
        out.pow(2).sum().backward()
        outs[name] = tested, out, [p.grad for p in unit.parameters()]
    torch.testing.assert_close(outs['compiled'][0], outs['eager'][0])
    if variant.get('spatial_dropout'):
        # the compiled dropout draws its own masks: compare what it keeps
        fxy, ft = outs['compiled'][1].split([2, 5], dim=2)
        torch.testing.assert_close(ft, outs['eager'][1][:, :, 2:])
        dropped = fxy == 0
        assert 0.3 < dropped.float().mean() < 0.7
        torch.testing.assert_close(
            fxy[~dropped], (2 * outs['compiled'][0][:, :, :2])[~dropped])
    else:
        torch.testing.assert_close(outs['compiled'][1], outs['eager'][1])
        for got, expected in zip(outs['compiled'][2], outs['eager'][2]):
            torch.testing.assert_close(got, expected)
    assert compiled.compile_options == {} and eager.compile_options is None
