/* The SPSC ring protocol as a Promela model, checked exhaustively with spin
 * (scripts/check-models.mjs; test/models.test.ts). It stands for:
 *   src/ring/spsc/producer.ts   #writeOne / #writeChecked / #reserve / #pad, #commitRecord,
 *                               #published, #publish, resume()
 *   src/ring/spsc/consumer.ts   #next, #takeInto, #released, #release, #foundEmpty, resume()
 *   src/sync/waiting.ts         park(): announce in the waiters word, re-check, futex wait
 *   src/sync/wait-strategy.ts   wake(): a futex wake only when the waiters word is non-zero
 *   src/ring/layout/spsc.ts     record = header (length, type) + payload, never split at the
 *                               wrap (a padding record fills the rest of the lap)
 * Scale: the data area is CAP units of 8 bytes (RECORD_ALIGN); a record is its header unit
 * plus 0 or 1 payload unit, so a record takes at most CAP/2 units (maxMessageSize). Positions
 * are unbounded counters (the code's u32 wrap is not modelled). Memory is sequentially
 * consistent: the code publishes and releases with Atomics (seq_cst); plain payload and
 * header stores are ordered before the publishing store in the model as they are by it.
 *
 * A killer may SIGKILL the producer (-DKILL_PRODUCER) or the consumer (-DKILL_CONSUMER)
 * once, at any step; a new holder of the role then resumes as resume() does (producer at
 * the published tail, consumer at the released head). Ghost variables (g_*) record what the checks need and are not in shared
 * memory.
 *
 * Checked: every message is read whole (its header and payload from the same write) and in
 * order, with no gap and no duplicate apart from the redelivery of read-but-unreleased
 * records to a new consumer; with per-message publication (the default) every write that
 * returned is published, so a producer killed at any step loses nothing that returned; no
 * wake-up is ever missed (the futex waits below have no timeout: a missed wake-up is a
 * process blocked for ever, an invalid end state); nobody wedges after a kill.
 *
 * -DBATCH: per-task batching (batching: 'task' and cork()): a write may leave publication
 *   for later; whatever is held is published before the producer waits and at its end.
 * -DMUTATE_PUBLISH_FIRST: the producer publishes the tail before it writes the record
 *   header (a broken protocol: the check must fail).
 * -DMUTATE_NO_RECHECK: the waiter parks without re-checking after its announcement
 *   (a broken protocol: the check must fail).
 */

#define CAP 4
#define N 3
#define TYPE_MESSAGE 1
#define TYPE_PADDING 2

/* Shared memory: the published tail and released head, the waiters words, the data area. */
byte tail = 0;
byte head = 0;
byte consumerWaiters = 0;
byte producerWaiters = 0;
byte recLen[CAP];    /* record header: payload units (a padding record: units to the end - 1) */
byte recType[CAP];
byte pay[CAP];    /* payload unit: the id of the message written there */

/* The kernel's futex: a sleeper on the tail (consumer) or the head (producer). */
bool sleepsOnTail = false;
bool sleepsOnHead = false;

/* Ghosts. */
byte g_hid[CAP];          /* header unit: the id of the message whose header it is */
byte g_published = 0;     /* messages published (whose records end at or before tail) */
byte g_released = 0;      /* messages released (whose records end at or before head) */
byte g_returned = 0;      /* messages whose write returned to the caller */
byte g_received = 0;      /* messages delivered to a consumer at least once */
bool g_producerKilled = false;
bool g_consumerKilled = false;
bool g_killProducer = false;
bool g_killConsumer = false;
bool g_producerDone = false;
bool g_consumerDone = false;

/* The size of message `id` in units: 2, 1, 2, 2, 1 ... so that records wrap with padding. */
#define SIZE(id) (((id) % 3 == 1) -> 1 : 2)

/* A futex wait on `word` while it equals `seen`, then until woken. */
inline futexWait(word, seen, sleeps) {
  atomic { if :: word == seen -> sleeps = true :: else -> skip fi };
  (!sleeps)
}

/* wake(): only when someone announced itself. */
inline wake(waiters, sleeps) {
  if :: waiters != 0 -> sleeps = false :: else -> skip fi
}

/* The producer's publication: the tail store, then the look at the consumer waiters word. */
inline publish() {
  atomic { tail = t; g_published = pubId };
  wake(consumerWaiters, sleepsOnTail)
}

proctype Producer(bool killable) {
  byte t, cachedHead, idx, toEnd, need, s, id, pubId, seen;
  {
  /* resume(): at the published tail; the caller re-sends from the first message not published */
  atomic { t = tail; cachedHead = head; id = g_published; pubId = id };
  do
  :: id == N -> break
  :: else ->
     s = SIZE(id);
     idx = t % CAP;
     toEnd = CAP - idx;
     need = (s <= toEnd -> s : toEnd + s);
     if
     :: CAP - (t - cachedHead) < need ->
        cachedHead = head;
        if
        :: CAP - (t - cachedHead) < need ->
           /* Looks full: room for the padding alone is used now; everything is published
            * (the consumer must see it all to make room); then wait for the head to move. */
           if
           :: s > toEnd && CAP - (t - cachedHead) >= toEnd ->
              recLen[idx] = toEnd - 1; recType[idx] = TYPE_PADDING; t = t + toEnd
           :: else -> skip
           fi;
           publish();
           producerWaiters++;
           seen = head;
#ifndef MUTATE_NO_RECHECK
           if
           :: CAP - (t - seen) < need -> futexWait(head, seen, sleepsOnHead)
           :: else -> skip
           fi;
#else
           futexWait(head, seen, sleepsOnHead);
#endif
           producerWaiters--;
           goto retry
        :: else -> skip
        fi
     :: else -> skip
     fi;
     if
     :: s > toEnd -> recLen[idx] = toEnd - 1; recType[idx] = TYPE_PADDING; t = t + toEnd; idx = 0
     :: else -> skip
     fi;
#ifdef MUTATE_PUBLISH_FIRST
     atomic { tail = t + s; g_published = id + 1 };
     wake(consumerWaiters, sleepsOnTail);
#endif
     /* payload, then header (length, type), then the tail moves past the record */
     if :: s == 2 -> pay[idx + 1] = id :: else -> skip fi;
     recLen[idx] = s - 1; g_hid[idx] = id; recType[idx] = TYPE_MESSAGE;
     t = t + s;
     id++;
     pubId = id;
#ifndef BATCH
     publish();
     g_returned = id;
#else
     g_returned = id;
     if :: publish() :: skip fi;
#endif
retry: skip
  od;
  publish();   /* close() and process exit publish what is held */
  g_producerDone = true
  } unless { killable && g_killProducer };
  if :: killable && g_killProducer -> g_producerKilled = true :: else -> skip fi
}

proctype Consumer(bool killable) {
  byte h, cachedTail, idx, s, expect, seen;
  {
  /* resume(): at the released head; read-but-unreleased records are delivered again */
  atomic { h = head; expect = g_released };
  do
  :: expect == N -> break
  :: else ->
     cachedTail = tail;
     if
     :: cachedTail == h ->
        /* #foundEmpty: give back everything read, then wait for the tail to move */
        atomic { head = h; g_released = expect };
        wake(producerWaiters, sleepsOnHead);
        consumerWaiters++;
        seen = tail;
#ifndef MUTATE_NO_RECHECK
        if :: seen == h -> futexWait(tail, seen, sleepsOnTail) :: else -> skip fi;
#else
        futexWait(tail, seen, sleepsOnTail);
#endif
        consumerWaiters--
     :: else ->
        do
        :: h == cachedTail -> break
        :: else ->
           idx = h % CAP;
           if
           :: recType[idx] == TYPE_PADDING ->
              assert(recLen[idx] == CAP - idx - 1 && CAP - idx <= cachedTail - h);
              h = h + (CAP - idx)
           :: recType[idx] == TYPE_MESSAGE ->
              s = recLen[idx] + 1;
              /* what #next validates: the record lies within the published data and the lap */
              assert(s <= CAP / 2 && s <= cachedTail - h && idx + s <= CAP);
              /* whole and in order: this header and its payload are those of message `expect` */
              assert(g_hid[idx] == expect && s == SIZE(expect));
              if :: s == 2 -> assert(pay[idx + 1] == expect) :: else -> skip fi;
              h = h + s;
              expect++;
              if :: expect > g_received -> g_received = expect :: else -> skip fi;
#ifndef BATCH
              atomic { head = h; g_released = expect };
              wake(producerWaiters, sleepsOnHead)
#else
              if
              :: atomic { head = h; g_released = expect }; wake(producerWaiters, sleepsOnHead)
              :: skip
              fi
#endif
           :: else -> assert(false)   /* a record type #next refuses: never published */
           fi
        od
     fi
  od;
  atomic { head = h; g_released = expect };
  wake(producerWaiters, sleepsOnHead);
  g_consumerDone = true
  } unless { killable && g_killConsumer };
  if :: killable && g_killConsumer -> g_consumerKilled = true :: else -> skip fi
}

/* SIGKILL at any step while the process lives, once, of the producer (-DKILL_PRODUCER) or
 * the consumer (-DKILL_CONSUMER); then a new holder of the role takes over (resume()). */
proctype Killer() {
#ifdef KILL_PRODUCER
  if
  :: atomic { !g_producerDone -> g_killProducer = true };
     (g_producerKilled);
#ifndef BATCH
     /* With per-message publication, nothing whose write returned is lost. */
     assert(g_published >= g_returned);
#endif
     run Producer(false)
  :: skip
  fi
#endif
#ifdef KILL_CONSUMER
  if
  :: atomic { !g_consumerDone -> g_killConsumer = true };
     (g_consumerKilled);
     run Consumer(false)
  :: skip
  fi
#endif
  skip
}

init {
  atomic {
    run Producer(true);
    run Consumer(true);
    run Killer()
  }
  /* (end) every process has finished: spin reports any that cannot as an invalid end state */
}
