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
"""AdaHessian's update rule: on joined float32 vectors (all small parameters end to end), and in place for large ones
by MindSpore's fused Adam kernel, whose second-moment input is the Hessian term ``v_hat ** k`` at the parameter's
shape, rewritten at each refresh (the kernel is handed ``beta2 = 1``, which leaves it as it is). On MindSpore's CPU
runtime the joined update holds several weight-sized buffers per parameter (an assigned value stays allocated until
the step ends), and elementwise kernels are several times slower per element than the fused kernel."""
import numpy as np
import mindspore as ms
from mindspore import Parameter, ParameterTuple, Tensor, amp, ops

from .dispatch import LAZY
from .hutchinson import FINITE_DIFFERENCE
from .probes import flat_piece

__all__ = ["IN_PLACE_MIN_SIZE", "UpdateMixin", "adahessian_update"]

# Parameters with at least this many float32 elements are updated in place. Smaller ones stay on the joined
# update, which runs a fixed number of kernels whatever the number of parameters (what small PINNs need).
IN_PLACE_MIN_SIZE = 1 << 16


def join(tensors):
    """The tensors end to end, as one float32 vector."""
    parts = tuple(ops.cast(tensor, ms.float32).reshape((-1,)) for tensor in tensors)
    return ops.concat(parts) if len(parts) > 1 else parts[0]


def per_element(values, segment_index):
    """One scalar per tensor, repeated for each of its elements (``segment_index``: the tensor of each element)."""
    stacked = ops.concat(tuple(ops.cast(value, ms.float32).reshape((1,)) for value in values))
    return ops.gather(stacked, segment_index, 0)


def joined_layout(shapes, reduced_shapes):
    """``(offsets, reduced_offsets, expand_index, segment_index, reduced_segments)`` of tensors of ``shapes`` joined
    and of their averaged second moments (``reduced_shapes``) joined: each tensor's start (and one past the last) in
    both; each element's block in the latter (``None``: blocks of one element); each element's tensor in both."""
    sizes = [int(np.prod(shape, dtype=np.int64)) for shape in shapes]
    reduced_sizes = [int(np.prod(shape, dtype=np.int64)) for shape in reduced_shapes]
    offsets = tuple(int(v) for v in np.concatenate([[0], np.cumsum(sizes)]))
    reduced_offsets = tuple(int(v) for v in np.concatenate([[0], np.cumsum(reduced_sizes)]))
    expand_index = None
    if sizes != reduced_sizes:
        expand = [np.broadcast_to(np.arange(size).reshape(shape) + offset, full).ravel()
                  for size, shape, offset, full in zip(reduced_sizes, reduced_shapes, reduced_offsets, shapes)]
        expand_index = Tensor(np.concatenate(expand).astype(np.int32))
    segment_index = Tensor(np.repeat(np.arange(len(sizes)), sizes).astype(np.int32))
    reduced_segments = Tensor(np.repeat(np.arange(len(sizes)), reduced_sizes).astype(np.int32))
    return offsets, reduced_offsets, expand_index, segment_index, reduced_segments


class UpdateMixin:
    """AdaHessian's update once the gradients and curvature are known: small parameters joined, large ones in place."""

    def _build_layout(self):
        """Large float32 parameters are updated in place; the others on joined vectors."""
        self.reduced_shapes = tuple(tuple(v.shape) for v in self.moment2)
        sizes = [int(np.prod(shape, dtype=np.int64)) for shape in self.param_shapes]
        self.in_place_index = tuple(i for i, (param, size) in enumerate(zip(self._parameters, sizes))
                                    if param.dtype == ms.float32 and size >= max(self._in_place_min_size, 1))
        self.joined_index = joined = tuple(i for i in range(len(sizes)) if i not in self.in_place_index)
        # zero-curvature flags come joined first, then in place: this index puts them back in parameter order
        self.flag_order = Tensor(np.argsort(joined + self.in_place_index).astype(np.int32))
        # the Hessian term v_hat ** k at the parameter's shape, the fused kernel's second-moment input
        self.hessian_terms = ParameterTuple([Parameter(Tensor(np.zeros(self.param_shapes[i], np.float32)),
                                                       name="hessian_term." + self._parameters[i].name,
                                                       requires_grad=False) for i in self.in_place_index])
        if not joined:
            return
        (self.joined_offsets, self.reduced_offsets, self.expand_index, self.segment_index,
         self.reduced_segments) = joined_layout([self.param_shapes[i] for i in joined],
                                                [self.reduced_shapes[i] for i in joined])
        # lr and weight decay per parameter (groups, or names excluded from decay) are gathered per element.
        self.per_parameter_rates = self.is_group_lr or self.is_group or not all(self.decay_flags)
        self.hutchinson_mask = Tensor(np.array([self.curvatures[i] == "hutchinson" for i in joined], np.bool_))
        powers = [self.hessian_powers[i] for i in joined]
        self.half_power = powers[0] / 2.0 if len(set(powers)) == 1 else Tensor(
            np.repeat(np.array(powers, np.float32) / 2.0, np.diff(self.reduced_offsets)))

    def _apply_update(self, grads, curvatures, p_old, refresh, phase, loss_ok=True):
        """Unscale, update and write back parameters, moments, flags and counters. ``p_old``: ``(joined, copies)``,
        the small parameters joined and, when a finite difference moves them, copies of the large ones, read before
        anything moved them. ``curvatures`` is ``None`` on a lazy step."""
        inv_scale = self.inv_loss_scale if self._loss_scaler is None else 1.0 / self._loss_scaler.scale_value
        scaled = self._loss_scaler is not None or self.loss_scaled
        rates = self.get_lr()
        count = len(self._parameters)
        lrs = tuple(rates[i] for i in range(count)) if self.is_group_lr else (rates,) * count
        decays = (None,) * count  # decoupled weight decay per parameter, None: not decayed
        if self.exec_weight_decay:
            weight_decay = self.get_weight_decay()
            decays = tuple((weight_decay[i] if self.is_group else weight_decay) if decayed else None
                           for i, decayed in enumerate(self.decay_flags))
        step = ops.cast(self.global_step + 1, ms.float32).reshape(())
        refreshes = ops.cast(self.hessian_step, ms.float32).reshape(())
        # zero-curvature flags: is the curvature all zero while the gradient is not? (joined first, then in place)
        finite, flags, joined_new = Tensor(True) if isinstance(loss_ok, bool) else loss_ok, (), None
        if self.joined_index:
            joined = self.joined_index
            g = join(tuple(grads[i] for i in joined)) * inv_scale
            c = None
            if phase != LAZY:
                c = join(tuple(curvatures[i] for i in joined)) * inv_scale
                largest_c = ops.unsorted_segment_max(ops.abs(c), self.reduced_segments, len(joined))
                largest_g = ops.unsorted_segment_max(ops.abs(g), self.segment_index, len(joined))
                flags += (ops.logical_and(ops.logical_and(largest_c == 0, largest_g > 0), self.hutchinson_mask),)
            lr = per_element(tuple(lrs[i] for i in joined), self.segment_index) if self.is_group_lr else lrs[0]
            weight_decay = None
            if self.exec_weight_decay:
                weight_decay = decays[0] if not self.per_parameter_rates else per_element(
                    tuple(0.0 if decays[i] is None else decays[i] for i in joined), self.segment_index)
            hyper = (self.beta1, self.beta2, self.one_minus_beta1, self.one_minus_beta2, self.log_beta1,
                     self.log_beta2, self.eps, self.half_power, self.step_clip)
            joined_new = adahessian_update(p_old[0], join(tuple(self.moment1[i] for i in joined)),
                                           join(tuple(self.moment2[i] for i in joined)), g, c, refresh, step,
                                           refreshes, hyper, lr, weight_decay, self.expand_index)
            finite = ops.logical_and(finite, joined_new[3])
        in_place = ()
        for i in self.in_place_index:
            # finite from squared norms, one dot product each (faster than isfinite(.).all() on CPU); a gradient
            # whose squared norm overflows counts as not finite, as the kernel's second moment squares it too
            g = grads[i] * inv_scale if scaled else grads[i]  # already float32 (_prepare_grads)
            flat = g.reshape((-1,))
            g_norm = ops.matmul(flat, flat)
            c = None
            if phase == LAZY:
                finite = ops.logical_and(finite, ops.isfinite(g_norm))
            else:
                c = curvatures[i] * inv_scale if scaled else curvatures[i]
                flat = c.reshape((-1,))
                c_norm = ops.matmul(flat, flat)
                finite = ops.logical_and(finite, ops.logical_and(ops.isfinite(g_norm), ops.isfinite(c_norm)))
                flag = ops.logical_and(ops.logical_and(c_norm == 0, g_norm > 0), self.curvatures[i] == "hutchinson")
                flags += (flag.reshape((1,)),)
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
        """Update the large parameters and their moments with the fused kernels; ``saved``: copies of the parameters
        from before a finite difference moved them, else ``None``. No kernel is in a branch on ``finite``: one in a
        branch keeps writing to the buffers the parameters had at compile time, losing a later ``set_data`` (a
        checkpoint restore). A step that is not finite runs them with a zero gradient, ``beta1 = 1`` and rate 0,
        which leaves the parameter and its first moment exactly as they are."""
        bias1 = -ops.expm1(step * self.log_beta1)  # 1 - beta1**t, as in adahessian_update
        for position, i in enumerate(self.in_place_index):
            grad, curvature = grads_and_curvatures[position]
            param, moment2, term = self._parameters[i], self.moment2[i], self.hessian_terms[position]
            if saved is not None:
                ops.assign(param, saved[position])
            if curvature is not None:  # the new moment2, and the Hessian term v_hat ** k at the parameter's shape
                refreshed = finite if isinstance(refresh, bool) else ops.logical_and(refresh, finite)
                # the same expression as the joined update, so both round alike
                new_moment2 = ops.select(refreshed, self.beta2 * moment2 + self.one_minus_beta2 * curvature * curvature,
                                         moment2)
                count = refreshes + ops.cast(refreshed, refreshes.dtype)
                value = new_moment2 / -ops.expm1(ops.maximum(count, 1.0) * self.log_beta2)  # 1 - beta2**n, as above
                if self.hessian_powers[i] != 1.0:
                    value = ops.pow(value, self.hessian_powers[i])
                value = ops.broadcast_to(value, self.param_shapes[i])
                if self.step_clip is not None:
                    # the safe step's floor |m_hat| / c, squared as the kernel takes the root: set at refreshes only,
                    # so that the steps in between make no extra pass over the weights
                    floor = (self.beta1 * self.moment1[i] + self.one_minus_beta1 * grad) / (bias1 * self.step_clip)
                    value = ops.select(refreshed, ops.maximum(value, floor * floor), term)
                ops.assign(moment2, new_moment2)
                ops.assign(term, value)
            if finite:
                safe_grad = grad
            else:
                safe_grad = ops.zeros_like(grad)
            beta1 = ops.select(finite, self.beta1, self.one)
            rate = ops.select(finite, (lrs[i] / bias1).reshape(()), self.zero)
            if decays[i] is None:
                # beta1_power = beta2_power = 0: the kernel's own bias correction is 1; rate carries the first moment's
                self.fused_adam(param, self.moment1[i], term, self.zero, self.zero, rate, beta1, self.one, self.eps,
                                safe_grad)
            else:
                self.fused_adam_decay(param, self.moment1[i], term, rate, beta1, self.one, self.eps,
                                      (decays[i] * bias1).reshape(()), safe_grad)

    def _write(self, params, moment1, moment2):
        """Write the joined vectors back into the small parameters and their moments (``None``: leave it alone)."""
        for position, i in enumerate(self.joined_index):
            param, shape = self._parameters[i], self.param_shapes[i]
            start, stop = self.joined_offsets[position], self.joined_offsets[position + 1]
            ops.assign(param, ops.cast(flat_piece(params, start, stop).reshape(shape), param.dtype))
            if moment1 is not None:
                ops.assign(self.moment1[i], flat_piece(moment1, start, stop).reshape(shape))
            if moment2 is not None:
                piece = flat_piece(moment2, self.reduced_offsets[position], self.reduced_offsets[position + 1])
                ops.assign(self.moment2[i], piece.reshape(self.reduced_shapes[i]))


def adahessian_update(params, moment1, moment2, grads, curvature, refresh, step, refreshes, hyper, lr,
                      weight_decay=None, expand_index=None):
    r"""One AdaHessian update of joined vectors: ``(params, moment1, moment2, finite)``, the new values and whether the
    gradient and the curvature are finite (the caller keeps the old values if not: a branch around the writes costs
    far less memory than a select of every vector on MindSpore's CPU runtime).

    ``moment2`` and ``curvature`` (unscaled, averaged :math:`|D|`; ``None`` on a step that does not refresh) hold one
    value per averaging block, ``expand_index`` the block of each element (``None``: blocks of one element);
    ``refresh`` is ``True`` if known at compile time, else a bool Tensor; ``step`` (:math:`t \ge 1`) and ``refreshes``
    (before this step) are float32 scalars; ``hyper`` is ``(beta1, beta2, 1 - beta1, 1 - beta2, log(beta1),
    log(beta2), eps, k / 2, step_clip)``, :math:`k / 2` a float or a Tensor laid out as ``moment2``, ``step_clip``
    the safe step's :math:`c` or ``None``; ``lr`` and ``weight_decay`` (``None``: none): scalars, or as ``params``."""
    beta1, beta2, one_minus_beta1, one_minus_beta2, log_beta1, log_beta2, eps, half_power, step_clip = hyper
    finite = ops.isfinite(grads).all()
    new_moment2, count = moment2, refreshes
    if curvature is not None:
        finite = ops.logical_and(finite, ops.isfinite(curvature).all())
        new_moment2 = beta2 * moment2 + one_minus_beta2 * curvature * curvature
        if isinstance(refresh, bool):
            count = refreshes + 1.0
        else:
            new_moment2 = ops.select(refresh, new_moment2, moment2)
            count = refreshes + ops.cast(refresh, ms.float32)
    # 1 - beta**t as -expm1(t log beta): exact for beta close to 1
    bias1 = -ops.expm1(step * log_beta1)
    bias2 = -ops.expm1(ops.maximum(count, 1.0) * log_beta2)
    term = (ops.sqrt(new_moment2 / bias2) if isinstance(half_power, float) and half_power == 0.5
            else ops.pow(new_moment2 / bias2, half_power))
    new_moment1 = beta1 * moment1 + one_minus_beta1 * grads
    moment1_hat = new_moment1 / bias1
    if step_clip is None:
        denominator = term + eps
        if expand_index is not None:
            denominator = ops.gather(denominator, expand_index, 0)
    else:
        if expand_index is not None:
            term = ops.gather(term, expand_index, 0)
        # the safe step: a floor |m_hat| / c under the Hessian term keeps every move below c times the rate
        denominator = ops.maximum(term, ops.abs(moment1_hat) / step_clip) + eps
    delta = moment1_hat / denominator
    if weight_decay is not None:
        delta = delta + weight_decay * params
    return params - lr * delta, new_moment1, new_moment2, finite
