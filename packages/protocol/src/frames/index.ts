export { FrameReader, decodeFrame } from './decode.js';
export { SEPARATE_BODY, encodeFrame, encodeFrameParts, type ByteInput, type EncodableFrame } from './encode.js';
export {
  FrameError,
  FrameType,
  HEADER_SIZE,
  MAX_PAYLOAD,
  PROTOCOL_VERSION,
  logSources,
  type Address,
  type Frame,
  type FrameOf,
  type FlatHeaders,
  type LogSource,
  type TlsHead,
} from './frame.js';
