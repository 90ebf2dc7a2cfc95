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
"""AdaHessian: Adam with a Hutchinson estimate of the Hessian diagonal as second moment."""
import math
import numbers
import warnings
from collections.abc import Iterable

import numpy as np
import mindspore as ms
from mindspore import Parameter, ParameterTuple, Tensor, nn, ops
from mindspore import amp
from mindspore import context
from mindspore.nn import Cell
from mindspore.nn.learning_rate_schedule import LearningRateSchedule

from .diagnostics import SecondOrderError, find_parameters_without_second_derivative, second_order_advice
from .distributed import RankMean
from .hutchinson import _hutchinson_diagonal as hutchinson_diagonal  # graph-side body
from .hutchinson import _draw_probes  # pylint: disable=protected-access
from .hutchinson import AUTODIFF, check_hvp_method, draw_probes, split_grad_output
from .flat import flat_piece
from .probes import PROBES, bits_transform, flat_layout, host_stream_keys, probe_set_from_keys
from .spatial_average import reduced_shape, resolve_axes, spatial_mean

__all__ = ["AdaHessian"]

_NAME = "AdaHessian"
# Group keys handled by AdaHessian itself; nn.Optimizer parses the rest.
_GROUP_KEYS = ("hessian_power", "spatial_average", "curvature")
_CURVATURES = ("hutchinson", "gradient")
# Step phases: fixed when the host knows whether the step refreshes the Hessian estimate.
_DECIDE_IN_GRAPH, _REFRESH, _LAZY = 0, 1, 2


def _execution_mode():
    """MindSpore's execution mode, read on every plain call.

    ``mindspore.get_context("mode")`` validates its key against the device on every call: replacing it with the
    getter MindSpore's own modules use (under 1 us) saves 0.1 to 0.3 ms per plain call here, 1 to 3 % of an Adam
    step of a small PINN (``benchmarks/experiments/exp_host_overhead.py``).
    """
    getter = getattr(context, "_get_mode", None)
    return getter() if getter is not None else ms.get_context("mode")


def _err(message):
    return f"For '{_NAME}', {message}"


def _check_bool(name, value):
    if not isinstance(value, bool):
        raise TypeError(_err(f"the '{name}' must be bool, but got {type(value).__name__}."))
    return value


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(_err(f"the '{name}' must be int, but got {type(value).__name__}."))
    if value < minimum:
        raise ValueError(_err(f"the '{name}' must be an integer >= {minimum}, but got {value}."))
    return int(value)


def _check_float(name, value, low, high, low_open=True, high_open=True):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(_err(f"the '{name}' must be float, but got {type(value).__name__}."))
    value = float(value)
    below = value <= low if low_open else value < low
    above = value >= high if high_open else value > high
    if below or above or math.isnan(value):
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise ValueError(_err(f"the '{name}' must be in {interval}, but got {value}."))
    return value


def _check_hessian_power(value):
    return _check_float("hessian_power", value, 0.0, 1.0, low_open=True, high_open=False)


def _check_curvature(value):
    if value not in _CURVATURES:
        raise ValueError(_err(f"the 'curvature' must be one of {list(_CURVATURES)}, but got {value!r}."))
    return value


def _check_probe(value):
    if callable(value):
        return value
    if isinstance(value, str) and value in PROBES:
        return PROBES[value]
    raise ValueError(_err(f"the 'probe' must be one of {sorted(PROBES)} or a callable "
                          f"probe_fn(shape, seed, counter, stream), but got {value!r}."))


def _check_learning_rate(value):
    if isinstance(value, (bool, str)) or not isinstance(value, (numbers.Real, Tensor, Iterable,
                                                                  LearningRateSchedule)):
        raise TypeError(_err(f"the 'learning_rate' must be float, int, Tensor, Iterable or LearningRateSchedule, "
                             f"but got {type(value).__name__}."))
    if isinstance(value, numbers.Real) and (value < 0 or math.isnan(value)):
        raise ValueError(_err(f"the 'learning_rate' must be >= 0, but got {value}."))


def _check_weight_decay(value):
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, Cell)):
        raise TypeError(_err(f"the 'weight_decay' must be float, int or Cell, but got {type(value).__name__}."))
    if isinstance(value, numbers.Real) and not value >= 0:
        raise ValueError(_err(f"the 'weight_decay' must be >= 0, but got {value}."))


def _check_loss_scale(value):
    """Return (scale as float or None, scaler object or None)."""
    if isinstance(value, amp.LossScaler):
        if not hasattr(value, "scale_value"):
            raise TypeError(_err("the 'loss_scale' LossScaler must have a 'scale_value' Parameter."))
        return None, value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(_err(f"the 'loss_scale' must be a positive float or a mindspore.amp.LossScaler, "
                             f"but got {type(value).__name__}."))
    if not value > 0 or math.isinf(value):
        raise ValueError(_err(f"the 'loss_scale' must be a positive finite float, but got {value}."))
    return float(value), None


class AdaHessian(nn.Optimizer):
    r"""
    AdaHessian optimizer: Adam whose second moment tracks the curvature of the loss.

    AdaHessian was proposed in `ADAHESSIAN: An Adaptive Second Order Optimizer for Machine Learning
    <https://arxiv.org/abs/2006.00719>`_ (Yao et al., AAAI 2021). Its second moment is an exponential
    moving average of the squared, spatially averaged Hutchinson estimate of the Hessian diagonal,
    :math:`D = |z \odot (H z)|` with random probes :math:`z`, and the Hessian term enters the step
    raised to the power :math:`k`. Each refresh of the estimate costs one Hessian-vector product: a
    backward pass through the gradient graph (exact), or with ``hvp_method="finite_difference"`` one
    more gradient; with `update_interval` > 1 the estimate is refreshed lazily and the steps in between
    cost about as much as an Adam step.

    At step :math:`t = 1, 2, \dots`, with :math:`n` the number of Hessian refreshes so far
    (:math:`t - 1` divisible by `update_interval` triggers a refresh):

    .. math::
        \begin{array}{l}
            g_t = \nabla_\theta L(\theta_{t-1}) / s \\
            m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
            \textbf{if } (t - 1) \bmod N = 0: \\
            \qquad D_t = \operatorname{avg}\left(\left|\frac{1}{S}\sum_{j=1}^{S} z_j \odot (H_t z_j)\right|\right) / s,
                \quad v_t = \beta_2 v_{t-1} + (1 - \beta_2) D_t^2, \quad n \leftarrow n + 1 \\
            \textbf{else}: \quad v_t = v_{t-1} \\
            \hat{m}_t = m_t / (1 - \beta_1^t), \quad \hat{v}_t = v_t / (1 - \beta_2^n) \\
            \theta_t = \theta_{t-1} - \eta_t \left( \hat{m}_t / \left(\hat{v}_t^{k/2} + \epsilon\right)
                + \lambda \theta_{t-1} \right)
        \end{array}

    :math:`\eta_t` is `learning_rate`, :math:`\beta_1, \beta_2` are `beta1`, `beta2`, :math:`\epsilon` is
    `eps`, :math:`\lambda` is `weight_decay` (decoupled, as in the paper's reference code), :math:`k` is
    `hessian_power`, :math:`N` is `update_interval`, :math:`S` is `num_samples`, :math:`s` is
    `loss_scale` (gradients and Hessian-vector products are unscaled before use), :math:`H_t z` is a
    Hessian-vector product and :math:`\operatorname{avg}` the spatial averaging of
    `spatial_average`: by default none for 0-D and 1-D parameters, the mean over axis 1 for 2-D ones
    and the mean over axes 2 and above for parameters of 3 or more dimensions (convolution kernels);
    :math:`v` is stored at the averaged shape and broadcast back.

    Args:
        params (Union[list[Parameter], list[dict]]): Parameters to optimize, or parameter groups. A group
            dict holds ``"params"`` and may set ``"lr"``, ``"weight_decay"``, ``"order_params"`` as in
            :class:`mindspore.nn.Adam`, and the AdaHessian keys ``"hessian_power"``, ``"spatial_average"``
            and ``"curvature"``, which override the arguments of the same names for that group.
        learning_rate (Union[float, int, Tensor, Iterable, LearningRateSchedule]): Learning rate, as in
            :class:`mindspore.nn.Adam`. Second-order steps usually want a larger rate than Adam
            (0.05 to 0.5 is typical). Default: ``1e-3``.
        beta1 (float): Decay of the first moment, in (0, 1). Default: ``0.9``.
        beta2 (float): Decay of the Hessian second moment, in (0, 1). Default: ``0.999``.
        eps (float): Term added to the denominator, > 0. Default: ``1e-8``.
        use_locking (bool): Accepted for :class:`mindspore.nn.Adam` compatibility; updates are always
            applied as a whole. Default: ``False``.
        use_nesterov (bool): Not supported; ``True`` raises ``ValueError``. Default: ``False``.
        weight_decay (Union[float, int, Cell]): Decoupled weight decay :math:`\lambda >= 0`, or a Cell
            giving it per step. Parameters named with ``beta`` or ``gamma`` are not decayed unless groups
            say so, as in :class:`mindspore.nn.Adam`. Default: ``0.0``.
        loss_scale (Union[float, mindspore.amp.LossScaler]): Static loss scale :math:`s > 0` that the
            gradients carry, or a :class:`mindspore.amp.StaticLossScaler` /
            :class:`mindspore.amp.DynamicLossScaler`, whose current value unscales both the gradient and
            the Hessian-vector product and which is adjusted after each step. Default: ``1.0``.
        use_amsgrad (bool): Not supported; ``True`` raises ``ValueError``. Default: ``False``.
        hessian_power (float): Power :math:`k` in (0, 1] of the Hessian term. Default: ``1.0``.
        update_interval (int): Refresh the Hessian estimate every `update_interval` steps, >= 1.
            Default: ``1``.
        num_samples (int): Number of probes averaged per refresh, >= 1. Default: ``1``.
        probe (Union[str, Callable]): Probe distribution, ``"rademacher"`` or ``"gaussian"``, or a callable
            ``probe_fn(shape, seed, counter, stream)`` returning a Tensor of ``shape``. Default: ``"rademacher"``.
        seed (int): Seed of the probes; probes are a pure function of the seed, the refresh count and
            the parameter index, so runs repeat exactly. Default: ``0``.
        spatial_average (Union[str, tuple[int]]): ``"auto"`` (the rule above), ``"none"`` (per element)
            or a tuple of axes to average over. Default: ``"auto"``.
        curvature (str): ``"hutchinson"`` (the Hessian estimate) or ``"gradient"`` (use :math:`|g|`
            instead, an Adam-like fallback for parameters behind operators that have no second
            derivative). Default: ``"hutchinson"``.
        per_rank_probes (bool): In data-parallel training, draw independent probes on every rank
            (more samples per step) instead of the same probes everywhere (which makes the result
            identical to one process seeing all the data). Default: ``False``.
        hvp_method (str): How the Hessian-vector product :math:`H z` is computed. ``"autodiff"``:
            exactly, by differentiating the gradient again (reverse over reverse). ``"finite_difference"``:
            :math:`(g(\theta + h z) - g(\theta)) / h` with :math:`h = \sqrt{\epsilon_{mach}}(1 + \max|\theta|)
            / \max|z|`, the parameters moved in place for that gradient and then overwritten by the update
            (a skipped step restores them exactly); it costs one more gradient instead of a second-order
            backward pass (a refresh step 9 to 30 % cheaper in the benchmarks),
            needs no second derivative of any operator, and has a relative error of :math:`10^{-3}` to
            :math:`10^{-2}`. The loss must be deterministic (no dropout). Default: ``"autodiff"``.
        kwargs: ``use_lazy`` and ``use_offload`` of :class:`mindspore.nn.Adam` are accepted only as ``False``.

    Inputs:
        - **grad_fn** (Callable) - ``grad_fn(*inputs)`` returns the gradients of the loss with respect to
          the optimizer's parameters, in their order, as ``mindspore.grad(fn, None, weights)`` makes, or
          ``(loss, gradients)`` as ``mindspore.value_and_grad(fn, None, weights)`` makes. It must be twice
          differentiable.
        - **\*inputs** (Tensor) - The inputs passed to `grad_fn`.
        - **hessian_inputs** (tuple, keyword only) - Inputs of `grad_fn` for the Hessian-vector products of a
          refresh step, when they should differ from `inputs`: typically a random subset of the batch or of the
          collocation points, drawn anew for each refresh, which makes the curvature estimate cheaper (a
          sub-sampled Hessian). The gradient of the update still comes from `inputs`. The loss should be a mean
          over samples, so that the subset's Hessian estimates the whole batch's. Steps that do not refresh
          ignore them. Only in the plain call ``optimizer(grad_fn, *inputs, hessian_inputs=...)``, not inside a
          user's :func:`mindspore.jit` step. Default: ``None`` (use `inputs`).

    Outputs:
        The loss (Tensor) when `grad_fn` returns ``(loss, gradients)``, otherwise the tuple of gradients.
        A step whose gradient or Hessian estimate is not finite is skipped: parameters and state keep
        their values and :attr:`step_skipped` reads ``True``.

    Raises:
        TypeError: If an argument has the wrong type (`learning_rate`, `beta1`, `beta2`, `eps`,
            `hessian_power`, `update_interval`, `num_samples`, `seed`, `loss_scale`, `use_locking`, ...), or
            `inputs` or `hessian_inputs` hold something other than Tensors and numbers.
        ValueError: If an argument is out of range: `params` empty or holding a parameter that does not
            require gradients, `beta1` or `beta2` not in (0, 1), `eps` <= 0, `hessian_power` not in (0, 1],
            `update_interval` or `num_samples` < 1, unknown `probe`, `spatial_average`, `curvature` or
            `hvp_method`,
            `use_nesterov`, `use_amsgrad`, `use_lazy` or `use_offload` set to True.
        KeyError: If `kwargs` has a key other than ``use_lazy`` and ``use_offload``.

    Supported Platforms:
        ``Ascend`` ``GPU`` ``CPU``

    Examples:
        >>> import numpy as np
        >>> import mindspore as ms
        >>> from mindspore import nn, ops, Tensor
        >>> from mindflow import AdaHessian
        >>> ms.set_seed(0)
        >>> net = nn.Dense(3, 1)
        >>> def loss_fn(x, y):
        ...     return ops.mean((net(x) - y) ** 2)
        >>> optimizer = AdaHessian(net.trainable_params(), learning_rate=0.1, eps=1e-4)
        >>> grad_fn = ms.value_and_grad(loss_fn, None, optimizer.parameters)
        >>> x = Tensor(np.random.default_rng(0).normal(size=(16, 3)), ms.float32)
        >>> y = x.sum(axis=1, keepdims=True)
        >>> first = optimizer(grad_fn, x, y)
        >>> for _ in range(50):
        ...     loss = optimizer(grad_fn, x, y)
        >>> print(bool(loss < first))
        True
    """

    def __init__(self, params, learning_rate=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, use_locking=False,
                 use_nesterov=False, weight_decay=0.0, loss_scale=1.0, use_amsgrad=False, hessian_power=1.0,
                 update_interval=1, num_samples=1, probe="rademacher", seed=0, spatial_average="auto",
                 curvature="hutchinson", per_rank_probes=False, hvp_method=AUTODIFF, **kwargs):
        unknown = set(kwargs) - {"use_lazy", "use_offload"}
        if unknown:
            raise KeyError(_err(f"the supported keys of 'kwargs' are 'use_lazy' and 'use_offload', "
                                f"but got {sorted(unknown)}."))
        _check_bool("use_locking", use_locking)  # accepted for nn.Adam compatibility; updates are whole
        _check_bool("per_rank_probes", per_rank_probes)
        for name, value in (("use_nesterov", use_nesterov), ("use_amsgrad", use_amsgrad),
                            ("use_lazy", kwargs.get("use_lazy", False)),
                            ("use_offload", kwargs.get("use_offload", False))):
            if _check_bool(name, value):
                raise ValueError(_err(f"the '{name}' is not supported, it must be False, but got True."))
        beta1 = _check_float("beta1", beta1, 0.0, 1.0)
        beta2 = _check_float("beta2", beta2, 0.0, 1.0)
        eps = _check_float("eps", eps, 0.0, math.inf)
        hessian_power = _check_hessian_power(hessian_power)
        self.update_interval = _check_int("update_interval", update_interval, 1)
        self.num_samples = _check_int("num_samples", num_samples, 1)
        seed = _check_int("seed", seed, 0)
        self._probe_fn = _check_probe(probe)
        self._probe_transform = bits_transform(self._probe_fn)  # built-in probes: drawn for all parameters at once
        curvature = _check_curvature(curvature)
        self.hvp_method = check_hvp_method(hvp_method, _NAME)
        resolve_axes(spatial_average, 2, _NAME)  # validates the rule itself; shapes are checked per parameter
        static_scale, self._loss_scaler = _check_loss_scale(loss_scale)

        _check_learning_rate(learning_rate)
        _check_weight_decay(weight_decay)
        params, group_settings = self._split_group_settings(params)
        super().__init__(learning_rate, params, weight_decay, 1.0)
        self._check_trainable()

        defaults = {"hessian_power": hessian_power, "spatial_average": spatial_average, "curvature": curvature}
        settings = [dict(defaults, **group_settings.get(id(param), {})) for param in self._parameters]
        self.hessian_powers = tuple(_check_hessian_power(s["hessian_power"]) for s in settings)
        self.curvatures = tuple(_check_curvature(s["curvature"]) for s in settings)
        self.average_axes = tuple(resolve_axes(s["spatial_average"], len(p.shape), _NAME, p.name)
                                  for s, p in zip(settings, self._parameters))
        # plain Python copies: Parameter attributes cannot be read inside a compiled graph
        self.param_names = tuple(p.name for p in self._parameters)
        self.param_shapes = tuple(tuple(p.shape) for p in self._parameters)
        self.hutchinson_index = tuple(i for i, c in enumerate(self.curvatures) if c == "hutchinson")
        self.hutchinson_params = ParameterTuple([self._parameters[i] for i in self.hutchinson_index])

        self.beta1 = Tensor(beta1, ms.float32)
        self.beta2 = Tensor(beta2, ms.float32)
        # 1 - beta and log(beta) in float64 first: 1 - float32(0.999) is off by 1.3e-5 relative
        self.one_minus_beta1 = Tensor(1.0 - beta1, ms.float32)
        self.one_minus_beta2 = Tensor(1.0 - beta2, ms.float32)
        self.log_beta1 = Tensor(math.log(beta1), ms.float32)
        self.log_beta2 = Tensor(math.log(beta2), ms.float32)
        self.eps = Tensor(eps, ms.float32)
        self.inv_loss_scale = Tensor(1.0 / static_scale if static_scale else 1.0, ms.float32)
        self.moment1 = ParameterTuple(
            [Parameter(Tensor(np.zeros(p.shape, np.float32)), name="moment1." + p.name, requires_grad=False)
             for p in self._parameters])
        self.moment2 = ParameterTuple(
            [Parameter(Tensor(np.zeros(reduced_shape(p.shape, axes), np.float32)), name="moment2." + p.name,
                       requires_grad=False)
             for p, axes in zip(self._parameters, self.average_axes)])
        self.hessian_step = Parameter(Tensor([0], ms.int32), name="hessian_step", requires_grad=False)
        self.probe_seed = Parameter(Tensor(seed, ms.int64), name="probe_seed", requires_grad=False)
        self.skipped = Parameter(Tensor(False), name="step_skipped", requires_grad=False)
        self.flat_curvature = Parameter(Tensor(np.zeros(len(self._parameters), np.bool_)), name="flat_curvature",
                                        requires_grad=False)

        self._build_flat_layout()

        self.rank_mean = RankMean()
        self.probe_stream = self.rank_mean.rank if per_rank_probes else 0
        # upstream's hook: a subclass overriding gen_rand_vecs supplies every probe set
        self.custom_probes = type(self).gen_rand_vecs is not AdaHessian.gen_rand_vecs
        self._build_host_probe_layout()
        self._compiled = {}
        self._succeeded = set()

    # ------------------------------------------------------------------ construction helpers
    @staticmethod
    def _split_group_settings(params):
        """Take AdaHessian's own keys out of group dicts (nn.Optimizer rejects unknown keys)."""
        if params is None or isinstance(params, (Tensor, dict, str)) or not isinstance(params, Iterable):
            raise TypeError(_err(f"the 'params' must be a list of Parameter or of group dicts, "
                                 f"but got {type(params).__name__}."))
        params = list(params)
        if not params:
            raise ValueError(_err("the 'params' must not be empty, but got an empty list."))
        if not all(isinstance(group, dict) for group in params):
            wrong = [type(p).__name__ for p in params if not isinstance(p, Parameter)]
            if wrong:
                raise TypeError(_err(f"the 'params' must be a list of Parameter or of group dicts, "
                                     f"but got an element of type {wrong[0]}."))
            return params, {}
        allowed = ("params", "lr", "weight_decay", "order_params", "grad_centralization") + _GROUP_KEYS
        groups, settings = [], {}
        for group in params:
            unknown = sorted(set(group) - set(allowed))
            if unknown:
                raise KeyError(_err(f"the keys of a parameter group must be in {list(allowed)}, but got {unknown}."))
            group = dict(group)
            own = {key: group.pop(key) for key in _GROUP_KEYS if key in group}
            if group.get("grad_centralization"):
                raise ValueError(_err("the group key 'grad_centralization' is not supported, but got True."))
            group.pop("grad_centralization", None)
            for param in group.get("params", ()):
                settings[id(param)] = own
            groups.append(group)
        return groups, settings

    def _build_flat_layout(self):
        """Offsets and index vectors of the flat update (all parameters as one float32 vector)."""
        self.reduced_shapes = tuple(tuple(v.shape) for v in self.moment2)
        sizes = [int(np.prod(shape, dtype=np.int64)) for shape in self.param_shapes]
        reduced_sizes = [int(np.prod(shape, dtype=np.int64)) for shape in self.reduced_shapes]
        self.flat_offsets = tuple(int(v) for v in np.concatenate([[0], np.cumsum(sizes)]))
        self.reduced_offsets = tuple(int(v) for v in np.concatenate([[0], np.cumsum(reduced_sizes)]))
        # v is kept per averaging block: the denominator is gathered back to every element.
        self.expand_curvature = sizes != reduced_sizes
        expand = [np.broadcast_to(np.arange(size).reshape(shape) + offset, full).ravel()
                  for size, shape, offset, full in zip(reduced_sizes, self.reduced_shapes, self.reduced_offsets,
                                                      self.param_shapes)]
        self.expand_index = Tensor(np.concatenate(expand).astype(np.int32)) if self.expand_curvature else None
        # lr and weight decay per parameter (groups, or names excluded from decay) are gathered per element.
        self.per_parameter_rates = self.is_group_lr or self.is_group or not all(self.decay_flags)
        # The parameter of every element (and of every averaged block): per-parameter rates are gathered with
        # it, and the "all-zero curvature, non-zero gradient" flags are two segment reductions over it.
        self.segment_index = Tensor(np.repeat(np.arange(len(sizes)), sizes).astype(np.int32))
        self.reduced_segments = Tensor(np.repeat(np.arange(len(sizes)), reduced_sizes).astype(np.int32))
        self.hutchinson_mask = Tensor(np.array([c == "hutchinson" for c in self.curvatures], np.bool_))
        powers = np.repeat(np.array(self.hessian_powers, np.float32) / 2.0, reduced_sizes)
        self.uniform_power = len(set(self.hessian_powers)) == 1
        self.half_power = Tensor(powers) if not self.uniform_power else self.hessian_powers[0] / 2.0

    def _build_host_probe_layout(self):
        """Layout of the built-in probes whose stream keys the host derives (see ``_host_probe_keys``)."""
        shapes = [tuple(p.shape) for p in self.hutchinson_params]
        self.host_probe_keys = (self._probe_transform is not None and not self.custom_probes and bool(shapes)
                                and min(int(np.prod(shape, dtype=np.int64)) for shape in shapes) > 0)
        self.probe_index = self.probe_segment = None
        if self.host_probe_keys:
            index, segment = flat_layout(shapes, self._probe_transform)
            self.probe_index, self.probe_segment = Tensor(index), Tensor(segment)

    def _host_probe_keys(self):
        """Stream keys of this refresh's probes, one row per sample, from the seed and counter as they are now."""
        seed = int(self.probe_seed.asnumpy())
        counter = int(self.hessian_step.asnumpy()[0])
        count = len(self.hutchinson_index)
        return Tensor(np.stack([host_stream_keys(seed, counter, count, sample, self.probe_stream)
                                for sample in range(self.num_samples)]))

    def _check_trainable(self):
        for param in self._parameters:
            if not param.requires_grad:
                raise ValueError(_err(f"every parameter must require gradients, but '{param.name}' has "
                                      f"requires_grad=False; pass net.trainable_params()."))

    # ------------------------------------------------------------------ public helpers
    @property
    def step_skipped(self):
        """bool: whether the last step was skipped because of non-finite gradients or curvature."""
        return bool(self.skipped.asnumpy())

    def gen_rand_vecs(self, grads):
        """Probes for one Hutchinson sample, one per gradient (upstream MindFlow's hook).

        Subclasses may override it to inject their own probes; it then provides every sample.
        """
        shapes = tuple(g.shape for g in grads)
        return draw_probes(shapes, self.probe_seed, self.hessian_step, 1, self._probe_fn, self.probe_stream)[0]

    # ------------------------------------------------------------------ the step
    def __call__(self, *args, **kwargs):
        if not args or not callable(args[0]) or set(kwargs) - {"hessian_inputs"}:
            return super().__call__(*args, **kwargs)
        grad_fn, inputs = args[0], args[1:]
        self._check_inputs(inputs)
        hessian_inputs = self._check_hessian_inputs(kwargs.get("hessian_inputs"))
        first_call = grad_fn not in self._succeeded
        try:
            result = self._run_step(grad_fn, inputs, hessian_inputs)
        except (RuntimeError, ValueError, TypeError) as error:
            message = str(error).strip()
            if message.startswith(f"'For '{_NAME}',"):
                # raised while compiling: the graph compiler quotes the message and appends its trace
                raise type(error)(message.splitlines()[0][1:-1]) from None
            if not first_call or message.startswith(f"For '{_NAME}',"):
                raise
            self._raise_second_order_error(grad_fn, inputs, error)
        if first_call:
            self._succeeded.add(grad_fn)
            self._warn_flat_curvature()
        if self.step_skipped:
            warnings.warn(f"For '{_NAME}', step {int(self.global_step.asnumpy()[0]) + 1} was skipped: the gradient "
                          f"or the Hessian estimate holds NaN or Inf (parameters and state are unchanged).",
                          RuntimeWarning, stacklevel=2)
        return result

    def _run_step(self, grad_fn, inputs, hessian_inputs=None):
        # The step always runs as a compiled graph, compiled once per grad_fn and reused:
        # - a Cell called from Python in GRAPH mode with a function argument compiles anew on every call;
        # - a jit-compiled closure keeps reading Parameters as they were when it was compiled, so
        #   set_data/load_param_into_net would be ignored; a Cell graph sees them;
        # - PYNATIVE (eager) second-order differentiation in MindSpore 2.10 drops the curvature that flows
        #   through reductions (the Hessian of sum(x)**2 comes out as zero), while compiled graphs get it right.
        # - with update_interval > 1 the host picks a refresh or a lazy graph (the step count is read back, as
        #   the skipped-step flag is): a lazy graph without the refresh branch costs about one Adam step.
        # - built-in probes: the host derives their stream keys (two reads of small Parameters) instead of
        #   the graph (about sixty scalar kernels, some 10 % of a refresh step on a small PINN).
        # - hessian_inputs follow the inputs; the compiled step is told where they start.
        phase = _REFRESH
        if self.update_interval > 1 and int(self.global_step.asnumpy()[0]) % self.update_interval:
            phase = _LAZY
        step_inputs = tuple(inputs)
        split = None
        if phase == _REFRESH and hessian_inputs is not None:
            split = len(step_inputs)
            step_inputs += hessian_inputs
        if phase == _REFRESH and self.host_probe_keys:
            step_inputs = (self._host_probe_keys(),) + step_inputs
        step, new = self._step_cell(grad_fn, phase, split)
        lazy = None
        if new and phase == _REFRESH and self.update_interval > 1:
            # Compile the lazy graph before the refresh graph: MindSpore's CPU runtime runs a graph compiled
            # after a larger one up to 18 % slower (a lazy PINN step: 1.15-1.20 -> 1.07-1.10 Adam steps), and
            # most steps are lazy.
            lazy, lazy_new = self._step_cell(grad_fn, _LAZY)
            lazy = lazy if lazy_new else None
        mode = _execution_mode()
        if mode != ms.GRAPH_MODE:
            ms.set_context(mode=ms.GRAPH_MODE)
        try:
            if lazy is not None:
                lazy.compile(*inputs)
            return step(*step_inputs)
        finally:
            if mode != ms.GRAPH_MODE:
                ms.set_context(mode=mode)

    def _step_cell(self, grad_fn, phase, split=None):
        """The compiled step of ``grad_fn`` for ``phase``, and whether it was just made (so not compiled yet).

        ``split``: the number of inputs when ``hessian_inputs`` follow them, else ``None``.
        """
        key = (id(grad_fn), phase, split)
        entry = self._compiled.get(key)
        if entry is not None and entry[0] is grad_fn:
            return entry[1], False
        step = _CompiledStep(self, grad_fn, phase, phase == _REFRESH and self.host_probe_keys, split)
        if len(self._compiled) >= 16:
            self._compiled.pop(next(iter(self._compiled)))
        self._compiled[key] = (grad_fn, step)
        return step, True

    def _raise_second_order_error(self, grad_fn, inputs, error):
        """Turn a failure to differentiate twice into an error that names the parameters and the way out."""
        try:
            grad_fn(*inputs)
        except Exception:  # pylint: disable=broad-except
            raise error from None  # grad_fn fails by itself: not a second-order problem
        failing = find_parameters_without_second_derivative(grad_fn, self._parameters, inputs,
                                                            self.hutchinson_index)
        if not failing:
            raise error
        reason = str(error).strip().splitlines()[0]
        raise SecondOrderError(
            f"For '{_NAME}', MindSpore cannot differentiate the gradient a second time for the parameters "
            f"{failing} ({reason}): an operator behind them has no second derivative. "
            + second_order_advice(failing)) from error

    def _warn_flat_curvature(self):
        """One-time warning for parameters with a non-zero gradient but an all-zero curvature estimate."""
        flags = self.flat_curvature.asnumpy()
        names = [p.name for p, flag in zip(self._parameters, flags) if flag]
        if names:
            warnings.warn(f"For '{_NAME}', the Hessian estimate of {names} is exactly zero although their gradient "
                          f"is not: an operator in the loss may lack a correct second derivative (for example "
                          f"nn.SoftmaxCrossEntropyWithLogits; use ops.cross_entropy with probability targets or "
                          f"the log-sum-exp form). " + second_order_advice(names), RuntimeWarning, stacklevel=3)

    @staticmethod
    def _check_inputs(inputs, subject="the inputs of 'grad_fn'"):
        def valid(value):
            if isinstance(value, (tuple, list)):
                return all(valid(item) for item in value)
            return isinstance(value, (Tensor, numbers.Number))

        for position, value in enumerate(inputs):
            if not valid(value):
                raise TypeError(_err(f"{subject} must be Tensor, number, or tuple/list of them, "
                                     f"but got {type(value).__name__} at position {position}."))

    @staticmethod
    def _check_hessian_inputs(hessian_inputs):
        """``hessian_inputs`` as a tuple (or ``None``), checked like the inputs."""
        if hessian_inputs is None:
            return None
        if not isinstance(hessian_inputs, (tuple, list)):
            raise TypeError(_err(f"the 'hessian_inputs' must be a tuple or list of the inputs of 'grad_fn', "
                                 f"but got {type(hessian_inputs).__name__}."))
        AdaHessian._check_inputs(hessian_inputs, "the elements of 'hessian_inputs'")
        return tuple(hessian_inputs)

    def _probes(self, probe_key, probe_keys=None):
        """Probe sets for this refresh; ``probe_key`` is ``(seed, refresh count)`` read at the top of the step.

        ``probe_keys``: the stream keys the host derived from the same seed and count (one row per sample), or
        ``None`` to derive them here; both give the same probes.
        """
        shapes = tuple(p.shape for p in self.hutchinson_params)
        if probe_keys is not None:
            samples = ()
            for sample in range(self.num_samples):
                samples += (probe_set_from_keys(self._probe_transform, shapes, probe_keys[sample], self.probe_index,
                                                self.probe_segment),)
            return samples
        if self.custom_probes:
            return tuple(tuple(self.gen_rand_vecs(self.hutchinson_params)) for _ in range(self.num_samples))
        return _draw_probes(shapes, probe_key[0], probe_key[1], self.num_samples, self._probe_fn,
                            self.probe_stream, self._probe_transform)

    def _check_grads(self, grads):
        """Static check (at trace time in GRAPH mode) that grad_fn matches the parameters."""
        expected = len(self.param_shapes)
        if len(grads) != expected:
            raise ValueError(_err("'grad_fn' must return one gradient per parameter (" + str(expected)
                                  + "), but got " + str(len(grads)) + "."))
        for i in range(expected):
            if grads[i].shape != self.param_shapes[i]:
                raise ValueError(_err("the gradient of '" + self.param_names[i] + "' must have shape "
                                      + str(self.param_shapes[i]) + ", but got " + str(grads[i].shape) + "."))

    def _estimate(self, grad_fn, inputs, probe_key, probe_keys, hessian_inputs=None):
        """Gradient output and the signed Hessian-diagonal estimate of the 'hutchinson' parameters.

        ``hessian_inputs``: inputs of the Hessian-vector products when they differ from ``inputs``, else ``None``.
        """
        def checked_grad_fn(*args):
            output = grad_fn(*args)
            self._check_grads(split_grad_output(output)[1])
            return output

        if not self.hutchinson_index:
            return checked_grad_fn(*inputs), ()
        weights = self.hutchinson_params
        probes = self._probes(probe_key, probe_keys)
        # restore=False: a finite difference may leave the weights moved, _apply overwrites them from the
        # values read at the top of the step
        everything = len(self.hutchinson_index) == len(self._parameters)
        if everything and hessian_inputs is None:
            return hutchinson_diagonal(checked_grad_fn, weights, inputs, probes, self.hvp_method, None, False)
        index = self.hutchinson_index

        def partial_grad_fn(*args):
            grads = split_grad_output(checked_grad_fn(*args))[1]
            return tuple(grads[i] for i in index)

        # the gradient of the update comes first, before a finite difference moves the weights
        output = checked_grad_fn(*inputs)
        hessian_grad_fn = checked_grad_fn if everything else partial_grad_fn
        hvp_inputs = inputs if hessian_inputs is None else hessian_inputs
        start_grads = None
        if hessian_inputs is None:
            # same inputs: the finite difference starts from these gradients rather than taking them again
            grads = split_grad_output(output)[1]
            start_grads = tuple(grads[i] for i in index)
        _, diagonal = hutchinson_diagonal(hessian_grad_fn, weights, hvp_inputs, probes, self.hvp_method, start_grads,
                                          False)
        return output, diagonal

    def _curvatures(self, grads, diagonal):
        """Per parameter: the spatially averaged |estimate| (or |g| for curvature='gradient')."""
        result = ()
        position = 0
        for i, grad in enumerate(grads):
            if self.curvatures[i] == "hutchinson":
                raw = ops.abs(diagonal[position])
                position += 1
            else:
                raw = ops.abs(ops.cast(grad, ms.float32))
            result += (spatial_mean(raw, self.average_axes[i]),)
        return result

    def _refresh_step(self, grad_fn, inputs, probe_key, probe_keys=None, hessian_inputs=None):
        """Gradient and curvature of a step that refreshes the Hessian estimate."""
        output, diagonal = self._estimate(grad_fn, inputs, probe_key, probe_keys, hessian_inputs)
        grads = self._prepare_grads(output)
        return output, grads, self._curvatures(grads, self.rank_mean(diagonal))

    def _lazy_step(self, grad_fn, inputs):
        """Gradient of a step between refreshes: no second-order work at all."""
        output = grad_fn(*inputs)
        # the stored moment stands in for the curvature, which this step does not use
        return output, self._prepare_grads(output), tuple(self.moment2)

    def _prepare_grads(self, output):
        _, grads = split_grad_output(output)
        self._check_grads(grads)
        return self.rank_mean(tuple(ops.cast(g, ms.float32) for g in grads))

    def construct(self, grad_fn, *inputs):
        """One optimization step; see the class docstring."""
        return self._step(grad_fn, inputs, _DECIDE_IN_GRAPH)

    def _step(self, grad_fn, inputs, phase, probe_keys=None, hessian_inputs=None):
        """One step; ``phase`` (a compile-time constant) fixes a refresh or a lazy step, or decides in the graph.

        ``probe_keys``: stream keys of the probes derived on the host (refresh steps of a plain call), or ``None``.
        ``hessian_inputs``: inputs of the Hessian-vector products (refresh steps of a plain call), or ``None``.
        """
        # State read here, outside any branch: inside a control-flow branch, a Parameter that the graph
        # only reads would keep its compile-time value after set_data (e.g. load_param_into_net).
        probe_key = (self.probe_seed + 0, self.hessian_step + 0)
        # the parameters before the step: a finite-difference estimate moves them and _apply overwrites them
        p_old = self._flatten(self._parameters)
        if self.update_interval == 1 or phase == _REFRESH:
            output, grads, curvatures = self._refresh_step(grad_fn, inputs, probe_key, probe_keys, hessian_inputs)
            self._apply(grads, curvatures, p_old, Tensor(True), True)
        elif phase == _LAZY:
            output, grads, curvatures = self._lazy_step(grad_fn, inputs)
            self._apply(grads, curvatures, p_old, Tensor(False), False)
        else:
            refresh = (self.global_step[0] % self.update_interval) == 0
            if refresh:
                output, grads, curvatures = self._refresh_step(grad_fn, inputs, probe_key)
            else:
                output, grads, curvatures = self._lazy_step(grad_fn, inputs)
            self._apply(grads, curvatures, p_old, refresh, None)
        return split_grad_output(output)[0]

    def _scale_factor(self):
        if self._loss_scaler is None:
            return self.inv_loss_scale
        return 1.0 / self._loss_scaler.scale_value

    @staticmethod
    def _flatten(tensors):
        """The tensors as one float32 vector."""
        parts = ()
        for tensor in tensors:
            parts += (ops.cast(tensor, ms.float32).reshape((-1,)),)
        return ops.concat(parts) if len(parts) > 1 else parts[0]

    def _per_element(self, values):
        """One scalar per parameter, repeated for each of its elements."""
        stacked = ()
        for value in values:
            stacked += (ops.cast(value, ms.float32).reshape((1,)),)
        return ops.gather(ops.concat(stacked), self.segment_index, 0)

    def _rates(self):
        """Learning rate and decoupled weight decay: scalars, or per element when they differ by parameter."""
        lr = self.get_lr()
        if self.is_group_lr:
            lr = self._per_element(lr)
        if not self.exec_weight_decay:
            return lr, None
        weight_decay = self.get_weight_decay()
        if not self.per_parameter_rates:
            return lr, weight_decay
        decays = ()
        for i, decayed in enumerate(self.decay_flags):
            wd_i = weight_decay[i] if self.is_group else weight_decay
            decays += (wd_i if decayed else 0.0,)
        return lr, self._per_element(decays)

    def _apply(self, grads, curvatures, p_old, refresh, static_refresh):
        """Unscale, check finiteness, update moments and parameters (or skip the whole step).

        ``p_old``: the parameters as one flat vector, read before anything moved them.

        All parameters are updated as one flat vector, so a step runs a fixed number of kernels whatever the
        number of parameters. ``static_refresh`` is ``True``/``False`` when the graph is known to refresh (or
        not), ``None`` when ``refresh`` is decided in the graph.
        """
        inv_scale = self._scale_factor()
        g = self._flatten(grads) * inv_scale
        finite = ops.isfinite(g).all()
        v_old = self._flatten(self.moment2)
        if static_refresh is False:
            v_new = v_old  # a lazy step leaves the curvature moment alone
        else:
            c = self._flatten(curvatures) * inv_scale
            finite = ops.logical_and(finite, ops.isfinite(c).all())
            self._record_flat_curvature(g, c, refresh)
            v_refreshed = self.beta2 * v_old + self.one_minus_beta2 * c * c
            v_new = ops.select(ops.logical_and(refresh, finite), v_refreshed, v_old)
        refresh_t = ops.cast(refresh, ms.float32)
        step = ops.cast(self.global_step + 1, ms.float32).reshape(())
        count = ops.cast(self.hessian_step, ms.float32).reshape(()) + refresh_t
        # 1 - beta**t as -expm1(t log beta): exact for beta close to 1
        bias1 = -ops.expm1(step * self.log_beta1)
        bias2 = -ops.expm1(ops.maximum(count, 1.0) * self.log_beta2)
        if self.uniform_power and self.half_power == 0.5:
            denom = ops.sqrt(v_new / bias2) + self.eps
        else:
            denom = ops.pow(v_new / bias2, self.half_power) + self.eps
        if self.expand_curvature:
            denom = ops.gather(denom, self.expand_index, 0)
        m_old = self._flatten(self.moment1)
        m_new = self.beta1 * m_old + self.one_minus_beta1 * g
        lr, weight_decay = self._rates()
        delta = (m_new / bias1) / denom
        if weight_decay is not None:
            delta = delta + weight_decay * p_old
        p_new = ops.select(finite, p_old - lr * delta, p_old)
        m_new = ops.select(finite, m_new, m_old)
        offsets, reduced = self.flat_offsets, self.reduced_offsets
        for i, param in enumerate(self._parameters):
            shape = self.param_shapes[i]
            start, stop = offsets[i], offsets[i + 1]
            ops.assign(param, ops.cast(flat_piece(p_new, start, stop).reshape(shape), param.dtype))
            ops.assign(self.moment1[i], flat_piece(m_new, start, stop).reshape(shape))
            if static_refresh is not False:
                v_piece = flat_piece(v_new, reduced[i], reduced[i + 1])
                ops.assign(self.moment2[i], v_piece.reshape(self.reduced_shapes[i]))
        finite_i = ops.cast(finite, ms.int32)
        ops.assign_add(self.global_step, finite_i.reshape((1,)))
        ops.assign_add(self.hessian_step, (finite_i * ops.cast(refresh, ms.int32)).reshape((1,)))
        ops.assign(self.skipped, ops.logical_not(finite))
        if self._loss_scaler is not None and isinstance(self._loss_scaler, amp.DynamicLossScaler):
            self._loss_scaler.adjust(finite)
        return finite

    def _record_flat_curvature(self, g, c, refresh):
        """Flag parameters whose refreshed estimate is all zero while their gradient is not (flat ``g`` and ``c``)."""
        count = len(self.param_shapes)
        largest_c = ops.unsorted_segment_max(ops.abs(c), self.reduced_segments, count)
        largest_g = ops.unsorted_segment_max(ops.abs(g), self.segment_index, count)
        flags = ops.logical_and(ops.logical_and(largest_c == 0, largest_g > 0), self.hutchinson_mask)
        ops.assign(self.flat_curvature, ops.logical_and(flags, refresh))


class _CompiledStep(Cell):
    """One AdaHessian step for a fixed ``grad_fn`` and phase, as a Cell so that GRAPH mode compiles it once."""

    def __init__(self, optimizer, grad_fn, phase, keys_first, split=None):
        super().__init__(auto_prefix=False)
        self.optimizer = optimizer
        self.grad_fn = grad_fn
        self.step_phase = phase
        self.keys_first = keys_first  # the first input holds the probes' stream keys
        self.split = split  # the number of grad_fn inputs when hessian_inputs follow them

    def construct(self, *inputs):
        # pylint: disable=protected-access
        keys = None
        if self.keys_first:
            keys = inputs[0]
            inputs = inputs[1:]
        if self.split is None:
            return self.optimizer._step(self.grad_fn, inputs, self.step_phase, keys)
        return self.optimizer._step(self.grad_fn, inputs[:self.split], self.step_phase, keys, inputs[self.split:])
