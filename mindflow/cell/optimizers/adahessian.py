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
from mindspore import Parameter, ParameterTuple, Tensor, nn, ops

from .dispatch import (CALL_ADVICE, DECIDE_IN_GRAPH, LAZY, NAME, REFRESH, PlainCallMixin, check_bool, check_curvature,
                       check_float, check_grads, check_hessian_power, check_int, check_learning_rate, check_loss_scale,
                       check_probe, check_trainable, check_unsupported_flags, check_weight_decay, err,
                       split_group_settings)
from .distributed import RankMean
from .hutchinson import AUTODIFF, FINITE_DIFFERENCE, check_hvp_method, draw_probes, estimate_diagonal, split_grad_output
from .probes import bits_transform, flat_layout, graph_stream_keys, numel, probe_set_from_keys, rademacher_probe
from .spatial_average import curvature_blocks, resolve_axes
from .update import IN_PLACE_MIN_SIZE, UpdateMixin, join

__all__ = ["AdaHessian"]


class AdaHessian(PlainCallMixin, UpdateMixin, nn.Optimizer):
    r"""
    AdaHessian optimizer: Adam whose second moment tracks the curvature of the loss.

    AdaHessian (`ADAHESSIAN: An Adaptive Second Order Optimizer for Machine Learning
    <https://arxiv.org/abs/2006.00719>`_, Yao et al., AAAI 2021) keeps as second moment an exponential moving average
    of the squared, spatially averaged Hutchinson estimate of the Hessian diagonal, :math:`D = |z \odot (H z)|` with
    random probes :math:`z`, and raises the Hessian term to the power :math:`k` in the step. A refresh of the estimate
    costs one Hessian-vector product (a backward pass through the gradient graph, or one more gradient with
    ``hvp_method="finite_difference"``); with `update_interval` > 1 the steps in between cost about an Adam step.

    At step :math:`t = 1, 2, \dots`, with :math:`n` the number of Hessian refreshes so far (:math:`t - 1` divisible
    by `update_interval` triggers a refresh):

    .. math::
        \begin{array}{l}
            g_t = \nabla_\theta L(\theta_{t-1}) / s \\
            m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
            \textbf{if } (t - 1) \bmod N = 0: \\
            \qquad D_t = \operatorname{avg}\left(\left|\frac{1}{S}\sum_{j=1}^{S} z_j \odot (H_t z_j)\right|\right) / s,
                \quad v_t = \beta_2 v_{t-1} + (1 - \beta_2) D_t^2, \quad n \leftarrow n + 1 \\
            \textbf{else}: \quad v_t = v_{t-1} \\
            \hat{m}_t = m_t / (1 - \beta_1^t), \quad \hat{v}_t = v_t / (1 - \beta_2^n) \\
            \theta_t = \theta_{t-1} - \eta_t \left( \hat{m}_t / \left(\max\left(\hat{v}_t^{k/2}, |\hat{m}_t| / c\right)
                + \epsilon\right) + \lambda \theta_{t-1} \right)
        \end{array}

    :math:`\eta_t` is `learning_rate`, :math:`\beta_1, \beta_2` are `beta1`, `beta2`, :math:`\epsilon` is `eps`,
    :math:`\lambda` is `weight_decay` (decoupled, as in the paper's reference code), :math:`k` is `hessian_power`,
    :math:`c` is `step_clip`, :math:`N` is `update_interval`, :math:`S` is `num_samples`, :math:`s` is `loss_scale`
    (gradients and Hessian-vector products are unscaled before use), :math:`H_t z` is a Hessian-vector product and
    :math:`\operatorname{avg}` the spatial averaging of `spatial_average`: by default none for 0-D and 1-D parameters,
    the mean over axis 1 for 2-D ones and over axes 2 and above for 3-D and up (convolution kernels); :math:`v` is
    stored at the averaged shape and broadcast back.

    The floor :math:`|\hat{m}_t| / c` under the Hessian term is the safe step: no weight moves by more than :math:`c`
    times the learning rate in one step (plus weight decay), however small its curvature estimate, as in Sophia (Liu
    et al., 2023). Where the estimate is reliable the step is the paper's; where it is tiny, zero or noisy the step is
    clipped instead of growing as :math:`\hat{m}_t / \epsilon`. Parameters updated in place take :math:`\hat{m}` of
    the last refresh for the floor on the steps in between. ``step_clip=None`` gives the paper's update exactly.

    float32 parameters of :math:`2^{16}` elements or more are updated in place by MindSpore's fused Adam kernel
    (:class:`mindspore.ops.Adam`, or :class:`mindspore.ops.AdamWeightDecay` with weight decay), which reads
    :math:`\hat{v}^k` from a state tensor of the parameter's shape (``hessian_term.<name>``, rewritten at each
    refresh, with the safe step's floor of that step): the state is then as large as Adam's, and a step between
    refreshes costs about an Adam step.
    Smaller parameters are updated together, in a fixed number of kernels whatever their number.

    Args:
        params (Union[list[Parameter], list[dict]]): Parameters to optimize, or parameter groups: dicts with
            ``"params"`` and, as in :class:`mindspore.nn.Adam`, ``"lr"``, ``"weight_decay"``, ``"order_params"``, and
            the AdaHessian keys ``"hessian_power"``, ``"spatial_average"``, ``"curvature"`` (overriding the arguments).
        learning_rate (Union[float, int, Tensor, Iterable, LearningRateSchedule]): Learning rate, as in
            :class:`mindspore.nn.Adam`; second-order steps usually want more than Adam (0.05 to 0.5). Default: ``1e-3``.
        beta1 (float): Decay of the first moment, in (0, 1). Default: ``0.9``.
        beta2 (float): Decay of the Hessian second moment, in (0, 1). Default: ``0.999``.
        eps (float): Term added to the denominator, > 0. Default: ``1e-8``.
        use_locking (bool): Accepted for :class:`mindspore.nn.Adam` compatibility; updates are always whole.
            Default: ``False``.
        use_nesterov (bool): Not supported; ``True`` raises ``ValueError``. Default: ``False``.
        weight_decay (Union[float, int, Cell]): Decoupled weight decay :math:`\lambda >= 0`, or a Cell giving it per
            step; as in :class:`mindspore.nn.Adam`, parameters named with ``beta`` or ``gamma`` are not decayed unless
            groups say so. Default: ``0.0``.
        loss_scale (Union[float, mindspore.amp.LossScaler]): Static loss scale :math:`s > 0` that the gradients carry,
            or a :class:`mindspore.amp.StaticLossScaler` / :class:`mindspore.amp.DynamicLossScaler`, whose current
            value unscales the gradient and the Hessian-vector product, adjusted after each step. Default: ``1.0``.
        use_amsgrad (bool): Not supported; ``True`` raises ``ValueError``. Default: ``False``.
        hessian_power (float): Power :math:`k` in (0, 1] of the Hessian term. Default: ``1.0``.
        update_interval (int): Refresh the Hessian estimate every `update_interval` steps, >= 1. Default: ``1``.
        num_samples (int): Number of probes averaged per refresh, >= 1. Default: ``1``.
        probe (Union[str, Callable]): Probe distribution, ``"rademacher"`` or ``"gaussian"``, or a callable
            ``probe_fn(shape, seed, counter, stream)`` returning a Tensor of ``shape``. Default: ``"rademacher"``.
        seed (int): Seed of the probes, which are a pure function of the seed, the refresh count and the parameter
            index, so runs repeat exactly. Default: ``0``.
        spatial_average (Union[str, tuple[int]]): ``"auto"`` (the rule above), ``"none"`` (per element) or a tuple of
            axes to average over. Default: ``"auto"``.
        curvature (str): ``"hutchinson"`` (the Hessian estimate) or ``"gradient"`` (:math:`|g|` instead: an Adam-like
            fallback for parameters behind operators without a second derivative). Default: ``"hutchinson"``.
        per_rank_probes (bool): In data-parallel training, draw independent probes on every rank (more samples per
            step) rather than the same everywhere (the result of one process seeing all the data). Default: ``False``.
        hvp_method (str): How :math:`H z` is computed: ``"autodiff"``, exactly, by differentiating the gradient again;
            ``"finite_difference"``, as :math:`(g(\theta + h z) - g(\theta)) / h` with
            :math:`h = \sqrt{\epsilon_{mach}}(1 + \max|\theta|) / \max|z|`, the parameters moved in place for that
            gradient and then overwritten by the update (a skipped step restores them exactly): one more gradient
            instead of a second-order backward pass, no second derivative of any operator needed, accurate to about
            :math:`\sqrt{\epsilon_{mach}}` relative to the gradient's scale; the loss must be deterministic (no
            dropout). Default: ``"autodiff"``.
        step_clip (float): The largest move of a weight in one step, as a multiple :math:`c > 0` of the learning rate
            (the safe step), or ``None`` for the paper's update. Default: ``10.0``.
        kwargs: ``use_lazy`` and ``use_offload`` of :class:`mindspore.nn.Adam` are accepted only as ``False``.

    Inputs:
        - **grad_fn** (Callable) - ``grad_fn(*inputs)`` returns the gradients of the loss with respect to the
          optimizer's parameters, in their order (as ``mindspore.grad(fn, None, weights)`` makes), or
          ``(loss, gradients)`` (as ``mindspore.value_and_grad(fn, None, weights)`` makes); twice differentiable.
        - **\*inputs** (Tensor) - The inputs passed to `grad_fn`.
        - **hessian_inputs** (tuple, keyword only) - Inputs of `grad_fn` for the Hessian-vector products of a refresh
          step when they should differ from `inputs`: typically a random subset of the batch or of the collocation
          points, drawn anew for each refresh (a cheaper, sub-sampled Hessian; the loss should be a mean over
          samples). The update's gradient still comes from `inputs`; steps that do not refresh ignore them. Only in
          the plain call ``optimizer(grad_fn, *inputs, hessian_inputs=...)``, not inside a user's
          :func:`mindspore.jit` step. Default: ``None`` (use `inputs`).

    Outputs:
        The loss (Tensor) when `grad_fn` returns ``(loss, gradients)``, otherwise the tuple of gradients. A step whose
        loss, gradient or Hessian estimate is not finite is skipped (parameters and state unchanged,
        :attr:`step_skipped` ``True``). The plain call counts steps on the host, so a steady-state step reads nothing
        back from the device (which would stall an accelerator's launch queue); it reads the number of skipped steps
        at calls 1, 2, 4, 8, ... and then every :attr:`skip_check_interval` calls (100), and at every call while
        steps are being skipped, and warns when it grew; steps skipped three calls in a row are reported as a run
        that left the region where the loss is finite.

    Raises:
        TypeError: If an argument has the wrong type (`learning_rate`, `beta1`, `beta2`, `eps`, `hessian_power`,
            `update_interval`, `num_samples`, `seed`, `loss_scale`, `step_clip`, `use_locking`, ...), `inputs` or
            `hessian_inputs` hold something other than Tensors and numbers, or the optimizer is called with gradients
            instead of a gradient function (as :class:`mindspore.nn.Adam` is, or by
            :class:`mindspore.nn.TrainOneStepCell`).
        ValueError: If `params` is empty or holds a parameter that does not require gradients, `beta1` or `beta2` is
            not in (0, 1), `eps` or `step_clip` <= 0, `hessian_power` not in (0, 1], `update_interval` or `num_samples`
            < 1, `probe`, `spatial_average`, `curvature` or `hvp_method` unknown, or `use_nesterov`, `use_amsgrad`,
            `use_lazy` or `use_offload` True.
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
                 curvature="hutchinson", per_rank_probes=False, hvp_method=AUTODIFF, step_clip=10.0,
                 **kwargs):
        check_bool("use_locking", use_locking)  # accepted for nn.Adam compatibility; updates are whole
        check_bool("per_rank_probes", per_rank_probes)
        check_unsupported_flags(kwargs, use_nesterov=use_nesterov, use_amsgrad=use_amsgrad)
        beta1, beta2 = check_float("beta1", beta1, 0.0, 1.0), check_float("beta2", beta2, 0.0, 1.0)
        eps = check_float("eps", eps, 0.0, math.inf)
        self.step_clip = None if step_clip is None else check_float("step_clip", step_clip, 0.0, math.inf)
        hessian_power = check_hessian_power(hessian_power)
        self.update_interval = check_int("update_interval", update_interval, 1)
        self.num_samples = check_int("num_samples", num_samples, 1)
        seed = check_int("seed", seed, 0)
        self._probe_fn = check_probe(probe)
        curvature = check_curvature(curvature)
        self.hvp_method = check_hvp_method(hvp_method, NAME)
        resolve_axes(spatial_average, 2, NAME)  # the rule itself; shapes are checked per parameter
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

        # 1 - beta and log(beta) in float64 first: 1 - float32(0.999) is off by 1.3e-5 relative
        (self.beta1, self.beta2, self.one_minus_beta1, self.one_minus_beta2, self.log_beta1, self.log_beta2, self.eps,
         self.zero, self.one) = (Tensor(value, ms.float32) for value in (beta1, beta2, 1.0 - beta1, 1.0 - beta2,
                                                                         math.log(beta1), math.log(beta2), eps, 0, 1))
        self.inv_loss_scale = Tensor(1.0 / static_scale if static_scale else 1.0, ms.float32)
        self.loss_scaled = bool(static_scale) and static_scale != 1.0
        self.moment1 = ParameterTuple([_state("moment1." + p.name, np.zeros(p.shape, np.float32))
                                       for p in self._parameters])
        self.moment2 = ParameterTuple([_state("moment2." + p.name, np.zeros([1 if i in axes else dim for i, dim in
                                                                            enumerate(p.shape)], np.float32))
                                       for p, axes in zip(self._parameters, self.average_axes)])
        self.hessian_step = _state("hessian_step", Tensor([0], ms.int32))
        self.probe_seed = _state("probe_seed", Tensor(seed, ms.int64))
        self.skipped = _state("step_skipped", Tensor(False))
        self.skipped_steps = _state("skipped_steps", Tensor([0], ms.int32))
        self.zero_curvature = _state("zero_curvature", np.zeros(len(self._parameters), np.bool_))
        self.fused_adam, self.fused_adam_decay = ops.Adam(), ops.AdamWeightDecay()
        self._build_layout()

        self.rank_mean = RankMean()
        self.probe_stream = self.rank_mean.rank if per_rank_probes else 0
        # upstream's hook: a subclass overriding gen_rand_vecs supplies every probe set
        self.custom_probes = type(self).gen_rand_vecs is not AdaHessian.gen_rand_vecs
        # every Rademacher value is +-1: the finite difference's step needs no max |z|
        self.unit_probes = self._probe_fn is rademacher_probe and not self.custom_probes
        # built-in probes of non-empty parameters are drawn as one packed vector
        shapes = [tuple(p.shape) for p in self.hutchinson_params]
        self._probe_transform = None if self.custom_probes else bits_transform(self._probe_fn)
        self.packed_probes = self._probe_transform is not None and bool(shapes) and min(map(numel, shapes)) > 0
        self.probe_index, self.probe_segment = (tuple(Tensor(a) for a in flat_layout(shapes, self._probe_transform))
                                                if self.packed_probes else (None, None))
        self._init_plain_call()

    @property
    def step_skipped(self):
        """bool: whether the last step was skipped because of non-finite gradients or curvature (a device read)."""
        skipped = bool(self.skipped.asnumpy())
        if skipped:
            self._host_counters.step = None  # the step counter did not advance: read it again before the next step
        return skipped

    @property
    def skip_check_interval(self):
        """int: the plain call reads the skipped-step count every this many calls (1: after every step)."""
        return self._host_counters.check_interval

    @skip_check_interval.setter
    def skip_check_interval(self, value):
        self._host_counters.check_interval = check_int("skip_check_interval", value, 1)

    def gen_rand_vecs(self, grads):
        """Probes for one Hutchinson sample, one per gradient (upstream MindFlow's hook): a subclass may override it
        to inject its own probes, for every sample."""
        shapes = tuple(g.shape for g in grads)
        return draw_probes(shapes, self.probe_seed, self.hessian_step, 1, self._probe_fn, self.probe_stream)[0]

    def construct(self, grad_fn, *inputs):
        """One optimization step inside the user's compiled code; see the class docstring."""
        if isinstance(grad_fn, (tuple, list, Tensor)):
            raise TypeError(err("the first input must be the gradient function 'grad_fn', but got gradients. "
                                + CALL_ADVICE))
        return self._step(grad_fn, inputs, DECIDE_IN_GRAPH)

    def _step(self, grad_fn, inputs, phase, stream_keys=None, hessian_inputs=None):
        """One step; ``phase`` (a compile-time constant) fixes a refresh or a lazy step, or decides in the graph.
        ``stream_keys`` and ``hessian_inputs`` (or ``None``): from a plain call's refresh step."""
        # read outside any branch: a Parameter only read inside a branch keeps its compile-time value after set_data
        seed_and_count = (self.probe_seed + 0, self.hessian_step + 0)
        # the parameters before the step: a finite-difference estimate moves them and _apply_update overwrites them
        p_old = (join(tuple(self._parameters[i] for i in self.joined_index)) if self.joined_index else None, ())
        if self.hvp_method == FINITE_DIFFERENCE and (self.update_interval == 1 or phase != LAZY):
            p_old = (p_old[0], tuple(self._parameters[i] + 0 for i in self.in_place_index))
        if self.update_interval == 1 or phase == REFRESH:
            output, (grads, loss_ok), curvatures = self._refresh_step(grad_fn, inputs, seed_and_count, stream_keys,
                                                                      hessian_inputs)
            refresh = True
        elif phase == LAZY:
            output = grad_fn(*inputs)
            (grads, loss_ok), curvatures, refresh = self._prepare_grads(output), None, False
        else:
            refresh = (self.global_step[0] % self.update_interval) == 0
            if refresh:
                output, (grads, loss_ok), curvatures = self._refresh_step(grad_fn, inputs, seed_and_count)
            else:
                output = grad_fn(*inputs)
                grads, loss_ok = self._prepare_grads(output)
                curvatures = tuple(self.moment2)  # stands in for the curvature, which this step does not use
        self._apply_update(grads, curvatures, p_old, refresh, phase, loss_ok)
        return split_grad_output(output)[0]

    def _refresh_step(self, grad_fn, inputs, seed_and_count, stream_keys=None, hessian_inputs=None):
        """Gradient output, gradients and curvature of a step that refreshes the Hessian estimate."""
        output, diagonal = self._estimate(grad_fn, inputs, seed_and_count, stream_keys, hessian_inputs)
        grads = self._prepare_grads(output)
        return output, grads, curvature_blocks(grads[0], self.rank_mean(diagonal), self.curvatures, self.average_axes)

    def _estimate(self, grad_fn, inputs, seed_and_count, stream_keys=None, hessian_inputs=None):
        """Gradient output and the signed Hessian-diagonal estimate of the 'hutchinson' parameters."""
        def checked_grad_fn(*args):  # a compile-time check that the gradients match the parameters
            output = grad_fn(*args)
            check_grads(split_grad_output(output)[1], self.param_names, self.param_shapes)
            return output
        return estimate_diagonal(checked_grad_fn, self.hutchinson_params, self.hutchinson_index, len(self._parameters),
                                 inputs, self._probes(seed_and_count, stream_keys), self.hvp_method, hessian_inputs,
                                 self.unit_probes)

    def _prepare_grads(self, output):
        """``(grads, loss_ok)``: the gradients in ``grad_fn``'s output, checked, as float32, averaged over the ranks;
        and whether the loss is finite on every rank (``True`` when ``grad_fn`` returns no loss)."""
        loss, grads = split_grad_output(output)
        check_grads(grads, self.param_names, self.param_shapes)
        grads = tuple(ops.cast(g, ms.float32) for g in grads)
        if not isinstance(loss, Tensor):
            return self.rank_mean(grads), True
        # a non-finite loss skips the step too, on every rank alike: its flag rides in the gradients' all-reduce
        reduced = self.rank_mean(grads + (ops.cast(ops.isfinite(loss).all(), ms.float32).reshape((1,)),))
        return reduced[:-1], reduced[-1][0] == 1.0

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
            keys = (graph_stream_keys(seed, count, len(shapes), sample, self.probe_stream) if stream_keys is None
                    else stream_keys[sample])
            samples += (probe_set_from_keys(self._probe_transform, shapes, keys, self.probe_index,
                                            self.probe_segment),)
        return samples


def _state(name, value):
    """A Parameter of the optimizer's state, not trained."""
    return Parameter(value if isinstance(value, Tensor) else Tensor(value), name=name, requires_grad=False)
