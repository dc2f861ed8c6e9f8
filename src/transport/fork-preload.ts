// Loaded with --import by shmring's fork() into the child, before its main module: its URL
// says where the Channel is (fork-spec.ts); it removes itself from process.execArgv and
// rewires process.send / process.on('message') onto the shared-memory Channel.
import { installChild } from './fork-child.js';

installChild(import.meta.url);
