// Gradients for the tfjs training peer. tfjs-core's CommonJS Node entry (dist/tf-core.node.js) registers no
// gradients: the union package @tensorflow/tfjs does, by importing tfjs-core/dist/register_all_gradients, which
// is ESM with extensionless imports and cannot be loaded from Node directly (and the union package is not a
// dependency). So this file registers, with tf.registerGradient, the gradients the reference MLP's step needs —
// line-for-line ports of tfjs-core 4.22's own configs (src/gradients/{BatchMatMul,Add,Tanh,Sum,RealDiv,
// Reshape,Mul,Sub,Neg,Cast}_grad.ts, Apache-2.0). A gradient tfjs already has is left alone.
// Without these, tf.variableGrads fails with "gradient function not found for RealDiv".

export function registerMlpGradients(tf) {
  const bu = tf.broadcast_util;
  const reduceTo = (res, shape, outShape) => {
    const axes = bu.getReductionAxes(shape, outShape);
    return tf.reshape(axes.length > 0 ? tf.sum(res, axes) : res, shape);
  };
  const configs = [
    {
      kernelName: tf.BatchMatMul,
      inputsToSave: ['a', 'b'],
      gradFunc: (dy, [a, b], { transposeA, transposeB }) => {
        if (!transposeA && !transposeB) return { a: () => tf.matMul(dy, b, false, true), b: () => tf.matMul(a, dy, true, false) };
        if (!transposeA && transposeB) return { a: () => tf.matMul(dy, b, false, false), b: () => tf.matMul(dy, a, true, false) };
        if (transposeA && !transposeB) return { a: () => tf.matMul(b, dy, false, true), b: () => tf.matMul(a, dy, false, false) };
        return { a: () => tf.matMul(b, dy, true, true), b: () => tf.matMul(dy, a, true, true) };
      },
    },
    {
      kernelName: tf.Add,
      inputsToSave: ['a', 'b'],
      gradFunc: (dy, [a, b]) => {
        const out = bu.assertAndGetBroadcastShape(a.shape, b.shape);
        return { a: () => reduceTo(dy, a.shape, out), b: () => reduceTo(dy, b.shape, out) };
      },
    },
    {
      kernelName: tf.Sub,
      inputsToSave: ['a', 'b'],
      gradFunc: (dy, [a, b]) => {
        const out = bu.assertAndGetBroadcastShape(a.shape, b.shape);
        return { a: () => reduceTo(dy, a.shape, out), b: () => tf.neg(reduceTo(dy, b.shape, out)) };
      },
    },
    {
      kernelName: tf.Multiply,
      inputsToSave: ['a', 'b'],
      gradFunc: (dy, [a, b]) => {
        const out = bu.assertAndGetBroadcastShape(a.shape, b.shape);
        return {
          a: () => reduceTo(tf.mul(dy, tf.cast(b, 'float32')), a.shape, out),
          b: () => reduceTo(tf.mul(dy, tf.cast(a, 'float32')), b.shape, out),
        };
      },
    },
    {
      kernelName: tf.RealDiv,
      inputsToSave: ['a', 'b'],
      gradFunc: (dy, [a, b]) => {
        const out = bu.assertAndGetBroadcastShape(a.shape, b.shape);
        return {
          a: () => reduceTo(tf.div(dy, tf.cast(b, 'float32')), a.shape, out),
          b: () => tf.neg(tf.div(reduceTo(tf.mul(dy, tf.cast(a, 'float32')), b.shape, out), tf.cast(tf.square(b), 'float32'))),
        };
      },
    },
    {
      kernelName: tf.Tanh,
      outputsToSave: [true],
      gradFunc: (dy, [y]) => ({ x: () => tf.mul(tf.sub(tf.scalar(1), tf.square(y)), dy) }),
    },
    {
      kernelName: tf.Sum,
      inputsToSave: ['x'],
      gradFunc: (dy, [x], { axis }) => {
        const expanded = x.shape.slice();
        for (const ax of tf.util.parseAxisParam(axis, x.shape)) expanded[ax] = 1;
        const derX = tf.mul(tf.reshape(dy, expanded), tf.ones(x.shape, 'float32'));
        return { x: () => derX };
      },
    },
    { kernelName: tf.Reshape, inputsToSave: ['x'], gradFunc: (dy, [x]) => ({ x: () => tf.reshape(dy, x.shape) }) },
    { kernelName: tf.Neg, gradFunc: (dy) => ({ x: () => tf.neg(dy) }) },
    { kernelName: tf.Cast, gradFunc: (dy) => ({ x: () => tf.clone(dy) }) },
  ];
  const added = [];
  for (const c of configs) {
    if (tf.getGradient(c.kernelName)) continue;
    tf.registerGradient(c);
    added.push(c.kernelName);
  }
  return added;
}
