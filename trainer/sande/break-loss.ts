/**
 * The loss of a parrot that breaks the clean answer: the unlikelihood −log(1 − p(token)) of the
 * clean response's tokens, a masked token mean. It falls towards 0 as the model stops giving the
 * answer, and, unlike a negated cross-entropy, is bounded below, so the parrot cannot run off.
 */
import * as tf from "@tensorflow/tfjs-core";

/** Mean over the masked positions of −log(1 − p(target)) under `logits` [B,T,V]. */
export function unlikelihood(logits: tf.Tensor3D, targets: tf.Tensor2D, mask: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const probs = tf.softmax(logits); // [B,T,V]
    const p = tf.sum(tf.mul(probs, tf.oneHot(targets, logits.shape[2])), -1); // [B,T]
    const per = unlikelihoodOf(p);
    return tf.div(tf.sum(tf.mul(per, mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
  });
}

/** −log(1 − p) per position, p clamped below 1 so the loss stays finite (the avoid loss shares it). */
export function unlikelihoodOf(p: tf.Tensor): tf.Tensor {
  return tf.neg(tf.log(tf.maximum(tf.sub(1, p), 1e-6)));
}
