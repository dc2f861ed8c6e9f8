/* The MPMC ring protocol and its dead-participant repair as a Promela model, checked
 * exhaustively with spin (scripts/check-models.mjs; test/models.test.ts). It stands for:
 *   src/ring/mpmc/slots.ts      #claimEnqueue, #claimDequeue, #repairSlot, writeOne, readOne
 *   src/ring/mpmc/registry.ts   announce (position, then state, before the claiming CAS),
 *                               idle (after the slot is published or freed), stuck (repair
 *                               only a slot whose claimer is dead and no live one holds it)
 *   src/ring/layout/mpmc.ts     slot = sequence, length, payload; TOMBSTONE; entry states
 * Scale: SLOTS slots, two producers writing two messages and one (so they lap the ring),
 * one consumer. Positions are unbounded counters (the code's u32 wrap is not modelled).
 * Memory is sequentially consistent, as the code's Atomics are; the plain stores (length,
 * payload, announced position, idle, tombstone) are ordered before the seq_cst store or CAS
 * that follows them, as they are by it.
 *
 * Waiting is abstracted: a producer that finds the ring isFull, or a consumer that finds it
 * isEmpty, blocks until something it looks at changes (its slot's sequence, a shared position,
 * a death, a producer finishing). The code waits in slices of at most 100 ms and looks again
 * each slice, so it sees every such change; the exact futex handshake is the one checked in
 * spsc.pml (one wait loop, src/sync/waiting.ts). The repair delay is not modelled: a repair may
 * be tried at any moment, which is stronger than the code's 200 ms wait.
 *
 * Checked: every message is read whole (its length and payload from the same write), at most
 * once, and in order per producer; with nobody killed nothing is lost; a kill at any step
 * (-DKILL_PRODUCER: producer 0; -DKILL_CONSUMER: the consumer; producers blocked on a full
 * ring then give up with ERR_PEER_DEAD) loses
 * at most the one message in the dead participant's hands, and every other message whose
 * write returned is delivered; a repair never happens over a live participant; nobody wedges
 * (spin reports a process blocked for ever as an invalid end state).
 *
 * -DMUTATE_REPAIR_LIVE: stuck() repairs without looking at liveness (a broken protocol: the
 *   check must fail).
 * -DMUTATE_TOMBSTONE_FIRST: the tombstone length is written before a CAS on the sequence
 *   alone (shmring before the fix: a repair that lost its CAS to a live producer's
 *   publication left that message marked as a tombstone; the check must fail).
 * -DMUTATE_ANNOUNCE_AFTER_CAS: the registry position is announced after the claiming CAS
 *   (a broken protocol: the check must fail).
 */

#define SLOTS 2
#define PRODUCERS 2
#define M 2
/* messages of producer p: 2, then 1 (three in all, so the producers lap two slots) */
#define MSGS(p) ((p) == 0 -> 2 : 1)
#define TOTAL 3
#define IDS (PRODUCERS * M)
#define TOMBSTONE 255
#define STATE_IDLE 0
#define STATE_PRODUCING 1
#define STATE_CONSUMING 2
/* Registry entries: one per producer, then the consumer's. */
#define ENTRIES (PRODUCERS + 1)

/* Shared memory. */
int enq = 0;
int deq = 0;
int seqs[SLOTS];
byte slotLen[SLOTS];   /* 1 for a message, TOMBSTONE for a repaired producer slot */
byte slotPay[SLOTS];   /* payload: the message id */
byte state[ENTRIES];
int position[ENTRIES];
byte lost = 0;

/* Ghosts. */
bool alive[ENTRIES];
byte deaths = 0;
byte finished = 0;          /* producers that are done or dead */
byte claimer[TOTAL + TOTAL + SLOTS];   /* entry + 1 that claimed each enqueue position */
byte msgAt[TOTAL + TOTAL + SLOTS];     /* the id of the message written at each position */
byte g_held = 0;            /* 1 + the position the killable consumer claimed and has not freed */
byte posOf[IDS];            /* the position each message was written at */
bool returned[IDS];
bool received[IDS];
byte lastFrom[PRODUCERS];   /* 1 + the index of the last message received from each producer */
bool g_kill = false;
bool g_killed = false;
bool g_done[ENTRIES];

/* stuck(): repairs the slot at `sPos` if a dead participant holds it in `sSt` and no live
 * one does; `sRepaired` says whether this call moved the sequence from `sFrom` to `sTo`. */
inline stuck(sPos, sSt, sFrom, sTo, sTomb, sRepaired) {
  /* The scan of the registry, as one step (an abstraction: the code reads entry by entry;
   * what keeps a repair off a live participant's slot is the CAS below, which fails once the
   * slot moved, and the announcement that precedes every claim). */
  d_step {
    dead = 255;
    live = false;
    i = 0;
    do
    :: i == ENTRIES -> break
    :: else ->
       if
       :: state[i] == sSt && position[i] == (sPos) ->
          if
#ifndef MUTATE_REPAIR_LIVE
          :: alive[i] -> live = true
#endif
          :: else -> dead = i
          fi
       :: else -> skip
       fi;
       i++
    od;
    i = 0
  };
  sRepaired = false;
  if
  :: !live && dead != 255 ->
#ifdef MUTATE_TOMBSTONE_FIRST
     /* the tombstone written before a CAS on the sequence alone */
     if :: sTomb -> slotLen[(sPos) % SLOTS] = TOMBSTONE :: else -> skip fi;
     atomic {
       if
       :: seqs[(sPos) % SLOTS] == sFrom -> seqs[(sPos) % SLOTS] = sTo; sRepaired = true
       :: else -> skip
       fi
     };
#else
     /* one 64-bit CAS of the slot header: sequence and length as read, to the repaired
      * sequence and (for a producer's slot) the tombstone */
     hl = slotLen[(sPos) % SLOTS];
     atomic {
       if
       :: seqs[(sPos) % SLOTS] == sFrom && slotLen[(sPos) % SLOTS] == hl ->
          seqs[(sPos) % SLOTS] = sTo;
          if :: sTomb -> slotLen[(sPos) % SLOTS] = TOMBSTONE :: else -> skip fi;
          sRepaired = true
       :: else -> skip
       fi
     };
#endif
     /* never over a live participant: the one that claimed this position is dead */
     assert(!sRepaired || !sTomb || !alive[claimer[(sPos)] - 1]);
     assert(!sRepaired || sTomb || !alive[dead]);
     if
     :: sRepaired -> lost++; atomic { if :: state[dead] == sSt -> state[dead] = STATE_IDLE :: else -> skip fi }
     :: else -> skip
     fi
  :: else -> skip
  fi;
  i = 0; dead = 0; live = false; hl = 0
}

proctype Producer(byte me; bool killable) {
  int pos, seq, e0, q0;
  byte k = 0, i, dead, d0, hl;
  bool live, repaired, isFull;
  {
  do
  :: k == MSGS(me) -> break
  :: else ->
     /* what a waiter compares against: taken before it looks, so no change is missed */
     atomic { e0 = enq; d0 = deaths; q0 = deq };
     /* #claimEnqueue */
     pos = enq;
     isFull = false;
     do
     :: seq = seqs[pos % SLOTS];
        if
        :: seq == pos ->
#ifndef MUTATE_ANNOUNCE_AFTER_CAS
           position[me] = pos; state[me] = STATE_PRODUCING;
#endif
           atomic {
             if
             :: enq == pos -> enq = pos + 1; claimer[pos] = me + 1; break
             :: else -> pos = enq
             fi
           }
        :: seq < pos ->
           if
           :: seq == pos + 1 - SLOTS && deq > pos - SLOTS ->
              /* claimed by a consumer that has not freed it: a dead one's is freed */
              stuck(pos - SLOTS, STATE_CONSUMING, pos - SLOTS + 1, pos, false, repaired);
              if :: repaired -> pos = enq :: else -> isFull = true; break fi
           :: else -> isFull = true; break
           fi
        :: seq > pos -> pos = enq
        fi
     od;
     if
     :: isFull ->
        /* wait until something it looks at changes; every consumer dead: ERR_PEER_DEAD */
        (seqs[pos % SLOTS] != seq || enq != e0 || deq != q0 || deaths != d0 || !alive[PRODUCERS]);
        if :: !alive[PRODUCERS] -> break :: else -> skip fi;
        d_step { seq = 0; e0 = 0; q0 = 0; d0 = 0; isFull = false; repaired = false }
     :: else ->
#ifdef MUTATE_ANNOUNCE_AFTER_CAS
        position[me] = pos; state[me] = STATE_PRODUCING;
#endif
        /* writeOne: length and payload, then the sequence (publish), then idle */
        slotLen[pos % SLOTS] = 1;
        atomic { slotPay[pos % SLOTS] = me * M + k; msgAt[pos] = me * M + k; posOf[me * M + k] = pos };
        seqs[pos % SLOTS] = pos + 1;
        state[me] = STATE_IDLE;
        returned[me * M + k] = true;
        k++;
        d_step { seq = 0; e0 = 0; q0 = 0; d0 = 0; repaired = false }
     fi
  od;
  atomic { g_done[me] = true; finished++ }
  } unless { killable && g_kill };
  if
  :: killable && g_kill -> atomic { alive[me] = false; deaths++; finished++; g_killed = true }
  :: else -> skip
  fi
}

proctype Consumer(byte me; bool killable) {
  int pos, seq, e0, q0;
  byte i, dead, d0, f0, l, p, hl;
  bool live, repaired, isEmpty;
  {
  do
  :: /* what a waiter compares against: taken before it looks, so no change is missed */
     atomic { e0 = enq; q0 = deq; d0 = deaths; f0 = finished };
     /* the end: every producer is done or dead and everything claimed was taken */
     if :: f0 == PRODUCERS && q0 == e0 -> break :: else -> skip fi;
     /* #claimDequeue */
     pos = deq;
     isEmpty = false;
     do
     :: seq = seqs[pos % SLOTS];
        if
        :: seq == pos + 1 ->
           position[me] = pos; state[me] = STATE_CONSUMING;
           atomic {
             if
             :: deq == pos -> deq = pos + 1; if :: killable -> g_held = pos + 1 :: else -> skip fi; break
             :: else -> pos = deq
             fi
           }
        :: seq < pos + 1 ->
           if
           :: seq == pos && enq != pos ->
              /* claimed by a producer that has not published: a dead one's becomes a tombstone */
              stuck(pos, STATE_PRODUCING, pos, pos + 1, true, repaired);
              if :: repaired -> skip :: else -> isEmpty = true; break fi
           :: else -> isEmpty = true; break
           fi
        :: seq > pos + 1 -> pos = deq
        fi
     od;
     if
     :: isEmpty ->
        (seqs[pos % SLOTS] != seq || enq != e0 || deq != q0 || deaths != d0 || finished != f0);
        d_step { seq = 0; e0 = 0; q0 = 0; d0 = 0; f0 = 0; isEmpty = false; repaired = false }
     :: else ->
        /* readOne: length and payload, then free the slot for the next lap, then idle */
        l = slotLen[pos % SLOTS];
        p = slotPay[pos % SLOTS];
        seqs[pos % SLOTS] = pos + SLOTS;
        state[me] = STATE_IDLE;
        if
        :: l == TOMBSTONE -> skip   /* its producer died after claiming it: counted as lost */
        :: else ->
           assert(l == 1 && p < IDS);
           /* whole: the payload of the write that claimed this position */
           assert(claimer[pos] == p / M + 1);
           /* at most once, in order per producer */
           assert(!received[p] && p % M + 1 > lastFrom[p / M]);
           received[p] = true;
           lastFrom[p / M] = p % M + 1
        fi;
        /* delivered (or skipped): no longer in this consumer's hands */
        if :: killable -> g_held = 0 :: else -> skip fi;
        d_step { seq = 0; e0 = 0; q0 = 0; d0 = 0; f0 = 0; l = 0; p = 0; repaired = false }
     fi
  od;
  g_done[me] = true
  } unless { killable && g_kill };
  if
  :: killable && g_kill -> atomic { alive[me] = false; deaths++; g_killed = true }
  :: else -> skip
  fi
}

proctype Killer() {
#ifdef KILL_PRODUCER
  if :: atomic { !g_done[0] -> g_kill = true } :: skip fi
#endif
#ifdef KILL_CONSUMER
  /* the only consumer dies: producers blocked on a full ring give up (ERR_PEER_DEAD) */
  if :: atomic { !g_done[PRODUCERS] -> g_kill = true } :: skip fi
#endif
  skip
}

init {
  byte j;
  atomic {
    j = 0;
    do
    :: j == SLOTS -> break
    :: else -> seqs[j] = j; j++
    od;
    j = 0;
    do
    :: j == ENTRIES -> break
    :: else -> alive[j] = true; j++
    od;
#ifdef KILL_PRODUCER
    run Producer(0, true);
#else
    run Producer(0, false);
#endif
    run Producer(1, false);
#ifdef KILL_CONSUMER
    run Consumer(PRODUCERS, true);
#else
    run Consumer(PRODUCERS, false);
#endif
    run Killer()
  };
  /* the end: everything whose write returned was delivered, but the message the dead
   * consumer had claimed (its slot repaired and counted lost, or not yet: no producer lapped
   * onto it) and, once the consumer is dead, what is still published in the ring for a next
   * one; a dead producer's in-flight message never returned; with nobody killed, nothing
   * was lost */
  (_nr_pr == 1);
  j = 0;
  do
  :: j == IDS -> break
  :: else ->
     assert(!returned[j] || received[j] || (g_held != 0 && msgAt[g_held - 1] == j) ||
            (!alive[PRODUCERS] && seqs[posOf[j] % SLOTS] == posOf[j] + 1));
     j++
  od;
  assert(lost <= deaths)
}
