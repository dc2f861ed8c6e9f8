// Loaded with --import by shmring's fork() into the child, before its main module: rewires
// process.send / process.on('message') onto the shared-memory Channel.
import { installChild } from './fork-child.js';

installChild();
