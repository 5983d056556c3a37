// Builds ONNX models of dense layers (MatMul + Add [+ Relu]) ending in Softmax, with onnx-proto.
import { onnx } from 'onnx-proto';

export interface DenseLayer {
  /** Row-major [inputs, outputs]. */
  weights: Float32Array;
  bias: Float32Array;
  inputs: number;
  outputs: number;
  relu: boolean;
}

function floatTensor(name: string, dims: number[], values: Float32Array): onnx.ITensorProto {
  // raw_data is little-endian float32; copy so the buffer holds exactly these bytes.
  const raw = new Uint8Array(values.byteLength);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: raw };
}

function valueInfo(name: string, width: number): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: [{ dimParam: 'batch' }, { dimValue: width }] },
      },
    },
  };
}

export function denseSoftmaxModel(opts: {
  layers: DenseLayer[];
  inputName: string;
  outputName: string;
  docString: string;
}): Uint8Array {
  const nodes: onnx.INodeProto[] = [];
  const initializers: onnx.ITensorProto[] = [];
  let current = opts.inputName;
  opts.layers.forEach((layer, i) => {
    const w = `dense${i}_weight`;
    const b = `dense${i}_bias`;
    initializers.push(floatTensor(w, [layer.inputs, layer.outputs], layer.weights));
    initializers.push(floatTensor(b, [layer.outputs], layer.bias));
    nodes.push({ opType: 'MatMul', input: [current, w], output: [`dense${i}_mm`], name: `dense${i}_matmul` });
    nodes.push({ opType: 'Add', input: [`dense${i}_mm`, b], output: [`dense${i}_out`], name: `dense${i}_add` });
    current = `dense${i}_out`;
    if (layer.relu) {
      nodes.push({ opType: 'Relu', input: [current], output: [`dense${i}_relu`], name: `dense${i}_relu` });
      current = `dense${i}_relu`;
    }
  });
  const last = opts.layers[opts.layers.length - 1]!;
  nodes.push({
    opType: 'Softmax',
    input: [current],
    output: [opts.outputName],
    name: 'softmax',
    attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: -1 }],
  });
  const model: onnx.IModelProto = {
    irVersion: 8,
    producerName: 'inferscope-train',
    producerVersion: '1',
    docString: opts.docString,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'digits',
      node: nodes,
      initializer: initializers,
      input: [valueInfo(opts.inputName, opts.layers[0]!.inputs)],
      output: [valueInfo(opts.outputName, last.outputs)],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}
