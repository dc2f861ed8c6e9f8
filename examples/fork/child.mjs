// A worker written for child_process.fork: it squares what it is sent. Unchanged under shmring.
process.on('message', ({ n }) => process.send({ n, square: n * n }));
