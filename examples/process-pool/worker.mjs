// The worker file, as a piscina user already has it: its default export runs each task.
// A CommonJS file (module.exports = fn) works the same.
export default function hash({ text, rounds }) {
  let h = 2166136261;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  }
  return { text, h, pid: process.pid };
}

// A named export, chosen with run(task, { name: 'fail' }).
export function fail(message) {
  throw new Error(message);
}
