// The piscina worker of the piscina baseline: receives a message and returns its length.
export default function receive(bytes) {
  return bytes.length;
}
