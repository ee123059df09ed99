/**
 * Stage 2's loss with avoid rows (`avoid.ts`): the cross-entropy of the tokens whose mask is
 * positive (say them: the clean answer) and the unlikelihood −log(1 − p(token)) of those whose mask
 * is negative (do not say them: the flagged text), one mean over |mask|. With no negative mask it
 * is the masked cross-entropy mean.
 */
import * as tf from "@tensorflow/tfjs-core";
import { unlikelihoodOf } from "./break-loss.js";

/** Mean over |mask| of CE where mask > 0 and −log(1 − p) where mask < 0, under `logits` [B,T,V]. */
export function answerAvoidLoss(logits: tf.Tensor3D, targets: tf.Tensor2D, mask: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const say = tf.relu(mask); // [B,T]
    const avoid = tf.relu(tf.neg(mask)); // [B,T]
    const logp = tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(targets, logits.shape[2])), -1); // [B,T]
    const ce = tf.neg(logp);
    const ul = unlikelihoodOf(tf.exp(logp));
    const total = tf.add(tf.sum(tf.mul(ce, say)), tf.sum(tf.mul(ul, avoid)));
    return tf.div(total, tf.maximum(tf.add(tf.sum(say), tf.sum(avoid)), 1)) as tf.Scalar;
  });
}
