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

import numpy as np
import mindspore as ms
from mindspore import Parameter, ParameterTuple, Tensor, amp, nn, ops

from .dispatch import DECIDE_IN_GRAPH, LAZY, REFRESH, PlainCallMixin
from .diagnostics import zero_curvature_flags
from .distributed import RankMean
from .joined import flat_piece, join, joined_layout, per_element
from .in_place import IN_PLACE_MIN_SIZE, check_in_place, hessian_term, write_in_place
from .hutchinson import (AUTODIFF, FINITE_DIFFERENCE, check_hvp_method, draw_probes, estimate_diagonal,
                         split_grad_output)
from .probes import bits_transform, flat_layout, graph_stream_keys, probe_set_from_keys, rademacher_probe
from .spatial_average import curvature_blocks, reduced_shape, resolve_axes
from .update import adahessian_update
from .validation import (CALL_ADVICE, NAME, check_bool, check_curvature, check_float, check_grads,
                         check_hessian_power, check_int, check_learning_rate, check_loss_scale, check_probe,
                         check_trainable, check_unsupported_flags, check_weight_decay, err, split_group_settings)

__all__ = ["AdaHessian"]


class AdaHessian(PlainCallMixin, nn.Optimizer):
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

    float32 parameters of :math:`2^{16}` elements or more are updated in place by MindSpore's fused Adam kernel
    (:class:`mindspore.ops.Adam`, or :class:`mindspore.ops.AdamWeightDecay` with weight decay), which reads
    :math:`\hat{v}^k` from a state tensor of the parameter's shape (``hessian_term.<name>``, rewritten at each
    refresh): the state is then as large as Adam's, and a step between refreshes costs about an Adam step.
    Smaller parameters are updated together, in a fixed number of kernels whatever their number.

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
            backward pass, needs no second derivative of any operator, and is accurate to about
            :math:`\sqrt{\epsilon_{mach}}` relative to the gradient's scale. The loss must be deterministic
            (no dropout). Default: ``"autodiff"``.
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
        their values and :attr:`step_skipped` reads ``True``. The plain call counts steps on the host and
        reads nothing back from the device in a steady-state step (a read would stall an accelerator's
        launch queue); it reads the number of skipped steps every :attr:`skip_check_interval` calls (100)
        and warns when it grew.

    Raises:
        TypeError: If an argument has the wrong type (`learning_rate`, `beta1`, `beta2`, `eps`,
            `hessian_power`, `update_interval`, `num_samples`, `seed`, `loss_scale`, `use_locking`, ...), or
            `inputs` or `hessian_inputs` hold something other than Tensors and numbers, or the optimizer is
            called with gradients instead of a gradient function (as :class:`mindspore.nn.Adam` is, or by
            :class:`mindspore.nn.TrainOneStepCell`).
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
    # parameters of at least this many float32 elements are updated in place (tests lower it)
    _in_place_min_size = IN_PLACE_MIN_SIZE

    def __init__(self, params, learning_rate=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, use_locking=False,
                 use_nesterov=False, weight_decay=0.0, loss_scale=1.0, use_amsgrad=False, hessian_power=1.0,
                 update_interval=1, num_samples=1, probe="rademacher", seed=0, spatial_average="auto",
                 curvature="hutchinson", per_rank_probes=False, hvp_method=AUTODIFF, **kwargs):
        check_bool("use_locking", use_locking)  # accepted for nn.Adam compatibility; updates are whole
        check_bool("per_rank_probes", per_rank_probes)
        check_unsupported_flags(kwargs, use_nesterov=use_nesterov, use_amsgrad=use_amsgrad)
        beta1 = check_float("beta1", beta1, 0.0, 1.0)
        beta2 = check_float("beta2", beta2, 0.0, 1.0)
        eps = check_float("eps", eps, 0.0, math.inf)
        hessian_power = check_hessian_power(hessian_power)
        self.update_interval = check_int("update_interval", update_interval, 1)
        self.num_samples = check_int("num_samples", num_samples, 1)
        seed = check_int("seed", seed, 0)
        self._probe_fn = check_probe(probe)
        self._probe_transform = bits_transform(self._probe_fn)
        curvature = check_curvature(curvature)
        self.hvp_method = check_hvp_method(hvp_method, NAME)
        resolve_axes(spatial_average, 2, NAME)  # validates the rule itself; shapes are checked per parameter
        static_scale, self._loss_scaler = check_loss_scale(loss_scale)
        check_learning_rate(learning_rate)
        check_weight_decay(weight_decay)
        params, group_settings = split_group_settings(params)
        super().__init__(learning_rate, params, weight_decay, 1.0)
        check_trainable(self._parameters)

        defaults = {"hessian_power": hessian_power, "spatial_average": spatial_average, "curvature": curvature}
        settings = [dict(defaults, **group_settings.get(id(param), {})) for param in self._parameters]
        self.hessian_powers = tuple(check_hessian_power(s["hessian_power"]) for s in settings)
        self.curvatures = tuple(check_curvature(s["curvature"]) for s in settings)
        self.average_axes = tuple(resolve_axes(s["spatial_average"], len(p.shape), NAME, p.name)
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
        self.loss_scaled = bool(static_scale) and static_scale != 1.0
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
        self.skipped_steps = Parameter(Tensor([0], ms.int32), name="skipped_steps", requires_grad=False)
        self.zero_curvature = Parameter(Tensor(np.zeros(len(self._parameters), np.bool_)), name="zero_curvature",
                                        requires_grad=False)
        self.fused_adam = ops.Adam()
        self.fused_adam_decay = ops.AdamWeightDecay()
        self.zero = Tensor(0.0, ms.float32)
        self.one = Tensor(1.0, ms.float32)
        self._build_layout()

        self.rank_mean = RankMean()
        self.probe_stream = self.rank_mean.rank if per_rank_probes else 0
        # upstream's hook: a subclass overriding gen_rand_vecs supplies every probe set
        self.custom_probes = type(self).gen_rand_vecs is not AdaHessian.gen_rand_vecs
        # every Rademacher value is +-1: the finite difference's step needs no max |z|
        self.unit_probes = self._probe_fn is rademacher_probe and not self.custom_probes
        self._build_probe_layout()
        self._init_plain_call()

    def _build_layout(self):
        """Large float32 parameters are updated in place (see in_place.py); the others on joined vectors: those
        parameters end to end, and their moment2 blocks end to end."""
        self.reduced_shapes = tuple(tuple(v.shape) for v in self.moment2)
        sizes = [int(np.prod(shape, dtype=np.int64)) for shape in self.param_shapes]
        self.in_place_index = tuple(i for i, (param, size) in enumerate(zip(self._parameters, sizes))
                                    if param.dtype == ms.float32 and size >= max(self._in_place_min_size, 1))
        self.joined_index = tuple(i for i in range(len(sizes)) if i not in self.in_place_index)
        joined = self.joined_index
        # zero-curvature flags come joined first, then in place: this index puts them back in parameter order
        order = [joined.index(i) if i in joined else len(joined) + self.in_place_index.index(i)
                 for i in range(len(sizes))]
        self.flag_order = Tensor(np.array(order, np.int32))
        # the Hessian term v_hat ** k at the parameter's shape, the fused kernel's second-moment input
        self.hessian_terms = ParameterTuple(
            [Parameter(Tensor(np.zeros(self.param_shapes[i], np.float32)),
                       name="hessian_term." + self._parameters[i].name, requires_grad=False)
             for i in self.in_place_index])
        if not joined:
            return
        (self.joined_offsets, self.reduced_offsets, self.expand_index, self.segment_index,
         self.reduced_segments) = joined_layout([self.param_shapes[i] for i in joined],
                                                [self.reduced_shapes[i] for i in joined])
        # lr and weight decay per parameter (groups, or names excluded from decay) are gathered per element.
        self.per_parameter_rates = self.is_group_lr or self.is_group or not all(self.decay_flags)
        self.hutchinson_mask = Tensor(np.array([self.curvatures[i] == "hutchinson" for i in joined], np.bool_))
        powers = [self.hessian_powers[i] for i in joined]
        if len(set(powers)) == 1:
            self.half_power = powers[0] / 2.0
        else:
            blocks = np.diff(self.reduced_offsets)
            self.half_power = Tensor(np.repeat(np.array(powers, np.float32) / 2.0, blocks))

    def _build_probe_layout(self):
        """Built-in probes of non-empty parameters are drawn as one packed vector (see probes.flat_layout)."""
        shapes = [tuple(p.shape) for p in self.hutchinson_params]
        self.packed_probes = (self._probe_transform is not None and not self.custom_probes and bool(shapes)
                              and min(int(np.prod(shape, dtype=np.int64)) for shape in shapes) > 0)
        self.probe_index = self.probe_segment = None
        if self.packed_probes:
            index, segment = flat_layout(shapes, self._probe_transform)
            self.probe_index, self.probe_segment = Tensor(index), Tensor(segment)

    @property
    def step_skipped(self):
        """bool: whether the last step was skipped because of non-finite gradients or curvature (a device read)."""
        skipped = bool(self.skipped.asnumpy())
        if skipped:
            self._host_counters.forget()  # the step counter did not advance: read it again before the next step
        return skipped

    @property
    def skip_check_interval(self):
        """int: the plain call reads the skipped-step count every this many calls (1: after every step)."""
        return self._host_counters.check_interval

    @skip_check_interval.setter
    def skip_check_interval(self, value):
        self._host_counters.check_interval = check_int("skip_check_interval", value, 1)

    def gen_rand_vecs(self, grads):
        """Probes for one Hutchinson sample, one per gradient (upstream MindFlow's hook).

        Subclasses may override it to inject their own probes; it then provides every sample.
        """
        shapes = tuple(g.shape for g in grads)
        return draw_probes(shapes, self.probe_seed, self.hessian_step, 1, self._probe_fn, self.probe_stream)[0]

    # ------------------------------------------------------------------ the step, as compiled
    def construct(self, grad_fn, *inputs):
        """One optimization step inside the user's compiled code; see the class docstring."""
        if isinstance(grad_fn, (tuple, list, Tensor)):
            raise TypeError(err("the first input must be the gradient function 'grad_fn', but got gradients. "
                                + CALL_ADVICE))
        return self._step(grad_fn, inputs, DECIDE_IN_GRAPH)

    def _step(self, grad_fn, inputs, phase, stream_keys=None, hessian_inputs=None):
        """One step; ``phase`` (a compile-time constant) fixes a refresh or a lazy step, or decides in the graph.

        ``stream_keys``: stream keys of the probes derived on the host (refresh steps of a plain call), or ``None``.
        ``hessian_inputs``: inputs of the Hessian-vector products (refresh steps of a plain call), or ``None``.
        """
        # State read here, outside any branch: inside a control-flow branch, a Parameter that the graph
        # only reads would keep its compile-time value after set_data (e.g. load_param_into_net).
        seed_and_count = (self.probe_seed + 0, self.hessian_step + 0)
        # the parameters before the step: a finite-difference estimate moves them and _apply_update overwrites them
        p_old = (join(tuple(self._parameters[i] for i in self.joined_index)) if self.joined_index else None, ())
        if self.hvp_method == FINITE_DIFFERENCE and (self.update_interval == 1 or phase != LAZY):
            p_old = (p_old[0], tuple(self._parameters[i] + 0 for i in self.in_place_index))
        if self.update_interval == 1 or phase == REFRESH:
            output, grads, curvatures = self._refresh_step(grad_fn, inputs, seed_and_count, stream_keys,
                                                           hessian_inputs)
            self._apply_update(grads, curvatures, p_old, True, REFRESH)
        elif phase == LAZY:
            output, grads = self._lazy_step(grad_fn, inputs)
            self._apply_update(grads, None, p_old, False, LAZY)
        else:
            refresh = (self.global_step[0] % self.update_interval) == 0
            if refresh:
                output, grads, curvatures = self._refresh_step(grad_fn, inputs, seed_and_count)
            else:
                output, grads = self._lazy_step(grad_fn, inputs)
                curvatures = tuple(self.moment2)  # stands in for the curvature, which this step does not use
            self._apply_update(grads, curvatures, p_old, refresh, DECIDE_IN_GRAPH)
        return split_grad_output(output)[0]

    def _refresh_step(self, grad_fn, inputs, seed_and_count, stream_keys=None, hessian_inputs=None):
        """Gradient and curvature of a step that refreshes the Hessian estimate."""
        output, diagonal = self._estimate(grad_fn, inputs, seed_and_count, stream_keys, hessian_inputs)
        grads = self._prepare_grads(output)
        return output, grads, curvature_blocks(grads, self.rank_mean(diagonal), self.curvatures, self.average_axes)

    def _estimate(self, grad_fn, inputs, seed_and_count, stream_keys=None, hessian_inputs=None):
        """Gradient output and the signed Hessian-diagonal estimate of the 'hutchinson' parameters."""
        return estimate_diagonal(self._checked(grad_fn), self.hutchinson_params, self.hutchinson_index,
                                 len(self._parameters), inputs, self._probes(seed_and_count, stream_keys),
                                 self.hvp_method, hessian_inputs, self.unit_probes)

    def _lazy_step(self, grad_fn, inputs):
        """Gradient of a step between refreshes: no second-order work at all."""
        output = grad_fn(*inputs)
        return output, self._prepare_grads(output)

    def _probes(self, seed_and_count, stream_keys=None):
        """Probe sets for this refresh; ``stream_keys``: the keys the host derived from the same counters, or None."""
        shapes = tuple(p.shape for p in self.hutchinson_params)
        if not shapes:
            return ()
        if self.custom_probes:
            return tuple(tuple(self.gen_rand_vecs(self.hutchinson_params)) for _ in range(self.num_samples))
        seed, count = seed_and_count
        if not self.packed_probes:
            return draw_probes(shapes, seed, count, self.num_samples, self._probe_fn, self.probe_stream)
        samples = ()
        for sample in range(self.num_samples):
            if stream_keys is None:
                keys = graph_stream_keys(seed, count, len(shapes), sample, self.probe_stream)
            else:
                keys = stream_keys[sample]
            samples += (probe_set_from_keys(self._probe_transform, shapes, keys, self.probe_index,
                                            self.probe_segment),)
        return samples

    def _checked(self, grad_fn):
        """``grad_fn`` with a compile-time check that its gradients match the parameters."""
        def checked_grad_fn(*args):
            output = grad_fn(*args)
            check_grads(split_grad_output(output)[1], self.param_names, self.param_shapes)
            return output
        return checked_grad_fn

    def _prepare_grads(self, output):
        _, grads = split_grad_output(output)
        check_grads(grads, self.param_names, self.param_shapes)
        return self.rank_mean(tuple(ops.cast(g, ms.float32) for g in grads))

    def _rates(self):
        """Learning rate and decoupled weight decay per parameter (``None``: not decayed)."""
        lr = self.get_lr()
        count = len(self._parameters)
        lrs = tuple(lr[i] for i in range(count)) if self.is_group_lr else (lr,) * count
        if not self.exec_weight_decay:
            return lrs, (None,) * count
        weight_decay = self.get_weight_decay()
        decays = ()
        for i, decayed in enumerate(self.decay_flags):
            decays += ((weight_decay[i] if self.is_group else weight_decay) if decayed else None,)
        return lrs, decays

    def _joined_rates(self, lrs, decays):
        """Learning rate and weight decay of the joined update: scalars, or per element when they differ."""
        joined = self.joined_index
        lr = per_element(tuple(lrs[i] for i in joined), self.segment_index) if self.is_group_lr else lrs[0]
        if not self.exec_weight_decay:
            return lr, None
        if not self.per_parameter_rates:
            return lr, decays[0]
        return lr, per_element(tuple(0.0 if decays[i] is None else decays[i] for i in joined), self.segment_index)

    def _apply_update(self, grads, curvatures, p_old, refresh, phase):
        """Unscale, update and write back parameters, moments and counters (the joined update for small
        parameters, see ``adahessian_update``; in place for large ones, see ``in_place.py``).

        ``p_old``: ``(joined, copies)``, the small parameters joined into one vector and copies of the large ones
        when a finite difference moves them, read before anything moved them. ``curvatures`` is ``None`` on a
        lazy step.
        """
        inv_scale = self.inv_loss_scale if self._loss_scaler is None else 1.0 / self._loss_scaler.scale_value
        scaled = self._loss_scaler is not None or self.loss_scaled
        lrs, decays = self._rates()
        step = ops.cast(self.global_step + 1, ms.float32).reshape(())
        refreshes = ops.cast(self.hessian_step, ms.float32).reshape(())
        finite = Tensor(True)
        flags = ()
        joined_new = None
        if self.joined_index:
            joined = self.joined_index
            g = join(tuple(grads[i] for i in joined)) * inv_scale
            c = None
            if phase != LAZY:
                c = join(tuple(curvatures[i] for i in joined)) * inv_scale
                flags += (zero_curvature_flags(g, c, self.segment_index, self.reduced_segments,
                                               self.hutchinson_mask),)
            lr, weight_decay = self._joined_rates(lrs, decays)
            hyper = (self.beta1, self.beta2, self.one_minus_beta1, self.one_minus_beta2, self.log_beta1,
                     self.log_beta2, self.eps, self.half_power)
            joined_new = adahessian_update(p_old[0], join(tuple(self.moment1[i] for i in joined)),
                                           join(tuple(self.moment2[i] for i in joined)), g, c, refresh, step,
                                           refreshes, hyper, lr, weight_decay, self.expand_index)
            finite = joined_new[3]
        in_place = ()
        for i in self.in_place_index:
            g = grads[i] * inv_scale if scaled else grads[i]  # already float32 (_prepare_grads)
            c = None
            if phase != LAZY:
                c = curvatures[i] * inv_scale if scaled else curvatures[i]
            finite_i, flag = check_in_place(g, c)
            finite = ops.logical_and(finite, finite_i)
            if flag is not None:
                flags += (ops.logical_and(flag, self.curvatures[i] == "hutchinson").reshape((1,)),)
            in_place += ((g, c),)
        if phase != LAZY:
            flags = ops.gather(ops.concat(flags), self.flag_order, 0) if len(flags) > 1 else flags[0]
            ops.assign(self.zero_curvature, flags if isinstance(refresh, bool) else ops.logical_and(flags, refresh))
        moves = self.hvp_method == FINITE_DIFFERENCE and phase != LAZY
        if self.in_place_index:
            self._update_in_place(in_place, p_old[1] if moves else None, refresh, finite, step, refreshes, lrs,
                                  decays)
        if joined_new is not None:
            if finite:
                self._write(joined_new[0], joined_new[1], None if phase == LAZY else joined_new[2])
            elif moves:
                self._write(p_old[0], None, None)  # a finite difference moved the weights: put them back
        finite_i = ops.cast(finite, ms.int32).reshape((1,))
        ops.assign_add(self.global_step, finite_i)
        ops.assign_add(self.hessian_step, finite_i * (int(refresh) if isinstance(refresh, bool) else
                                                      ops.cast(refresh, ms.int32)))
        ops.assign(self.skipped, ops.logical_not(finite))
        ops.assign_add(self.skipped_steps, 1 - finite_i)
        if self._loss_scaler is not None and isinstance(self._loss_scaler, amp.DynamicLossScaler):
            self._loss_scaler.adjust(finite)
        return finite

    def _update_in_place(self, grads_and_curvatures, saved, refresh, finite, step, refreshes, lrs, decays):
        """Update the large parameters in place (see ``in_place.py``); ``saved``: copies of them taken before a
        finite difference moved them, else ``None``."""
        # 1 - beta1**t as -expm1(t log beta1), as in adahessian_update
        bias1 = -ops.expm1(step * self.log_beta1)
        scalars = (self.beta1, self.eps, self.zero, self.one)
        for position, i in enumerate(self.in_place_index):
            grad, curvature = grads_and_curvatures[position]
            if saved is not None:
                ops.assign(self._parameters[i], saved[position])
            if curvature is not None:
                moment2, term = hessian_term(self.moment2[i], curvature, refresh, finite, refreshes,
                                             (self.beta2, self.one_minus_beta2, self.log_beta2,
                                              self.hessian_powers[i]), self.param_shapes[i])
                ops.assign(self.moment2[i], moment2)
                ops.assign(self.hessian_terms[position], term)
            decay = None if decays[i] is None else (decays[i] * bias1).reshape(())
            write_in_place((self.fused_adam, self.fused_adam_decay), self._parameters[i], self.moment1[i],
                           self.hessian_terms[position], grad, finite, (lrs[i] / bias1).reshape(()), decay,
                           scalars)

    def _write(self, params, moment1, moment2):
        """Write the joined vectors back into the small parameters and their moments (``None``: leave that one
        alone)."""
        for position, i in enumerate(self.joined_index):
            param = self._parameters[i]
            shape, start, stop = self.param_shapes[i], self.joined_offsets[position], self.joined_offsets[position + 1]
            ops.assign(param, ops.cast(flat_piece(params, start, stop).reshape(shape), param.dtype))
            if moment1 is not None:
                ops.assign(self.moment1[i], flat_piece(moment1, start, stop).reshape(shape))
            if moment2 is not None:
                piece = flat_piece(moment2, self.reduced_offsets[position], self.reduced_offsets[position + 1])
                ops.assign(self.moment2[i], piece.reshape(self.reduced_shapes[i]))
