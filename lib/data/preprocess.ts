// Keras `preprocess_input` modes applied to float32 RGB 0..255 pixels in place (before batching),
// so no extra tensors are made. 'caffe': VGG16/ResNet50; 'tf': InceptionV3; 'torch': ImageNet mean/std.
/** A Keras mode, or the base whose preprocess_input it is ('resnet50' = 'caffe', 'inceptionv3' = 'tf'). */
export type PreprocessMode = 'caffe' | 'tf' | 'torch' | 'none' | 'vgg16' | 'resnet50' | 'inceptionv3' | 'inception_v3' | 'inceptionV3';

const BY_MODEL: Record<string, 'caffe' | 'tf'> = { vgg16: 'caffe', resnet50: 'caffe', inceptionv3: 'tf', inception_v3: 'tf', inceptionV3: 'tf' };

const CAFFE_MEAN_BGR = [103.939, 116.779, 123.68];
const TORCH_MEAN = [0.485, 0.456, 0.406];
const TORCH_STD = [0.229, 0.224, 0.225];

export function applyPreprocessMode(data: Float32Array, modeOrModel: PreprocessMode): Float32Array {
  const mode: string = BY_MODEL[modeOrModel] ?? modeOrModel;
  switch (mode) {
    case 'none': return data;
    case 'tf':
      for (let i = 0; i < data.length; i++) data[i] = data[i] / 127.5 - 1;
      return data;
    case 'torch':
      for (let i = 0; i < data.length; i += 3) {
        for (let c = 0; c < 3; c++) data[i + c] = (data[i + c] / 255 - TORCH_MEAN[c]) / TORCH_STD[c];
      }
      return data;
    case 'caffe':
      for (let i = 0; i < data.length; i += 3) {
        const r = data[i], b = data[i + 2];
        data[i] = b - CAFFE_MEAN_BGR[0];
        data[i + 1] = data[i + 1] - CAFFE_MEAN_BGR[1];
        data[i + 2] = r - CAFFE_MEAN_BGR[2];
      }
      return data;
    default:
      throw new Error(`Unknown preprocessing mode '${mode as string}': use 'caffe' (VGG16, ResNet50), 'tf' (InceptionV3), 'torch', 'none', or a base name ('vgg16', 'resnet50', 'inceptionv3').`);
  }
}
