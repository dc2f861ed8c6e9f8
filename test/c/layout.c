/* Prints the offsets of the C mirror of the ring layout as JSON, for test/layout.test.ts. */
#include <stdio.h>
#include "shmring_layout.h"

int main(void) {
  printf("{\"MAGIC\":%u,\"VERSION\":%d,\"PRODUCER_OWNER_OFFSET\":%zu,\"CONSUMER_OWNER_OFFSET\":%zu,"
         "\"PRODUCER_CLOSED_OFFSET\":%zu,\"PARAM_C_OFFSET\":%zu,\"LOST_OFFSET\":%zu,\"TAIL_OFFSET\":%zu,\"HEAD_OFFSET\":%zu,\"CONSUMER_WAITERS_OFFSET\":%zu,"
         "\"PRODUCER_WAITERS_OFFSET\":%zu,\"CONSUMER_EVENT_OFFSET\":%zu,\"PRODUCER_EVENT_OFFSET\":%zu,"
         "\"DATA_OFFSET\":%zu,\"RECORD_HEADER_SIZE\":%zu,\"TYPE_MESSAGE\":%d,\"TYPE_PADDING\":%d}\n",
         SHMRING_MAGIC, SHMRING_VERSION, offsetof(struct shmring_header, producer_owner),
         offsetof(struct shmring_header, consumer_owner), offsetof(struct shmring_header, producer_closed), offsetof(struct shmring_header, param_c),
         offsetof(struct shmring_header, lost),
         offsetof(struct shmring_header, tail), offsetof(struct shmring_header, head),
         offsetof(struct shmring_header, consumer_waiters), offsetof(struct shmring_header, producer_waiters),
         offsetof(struct shmring_header, consumer_event), offsetof(struct shmring_header, producer_event),
         sizeof(struct shmring_header), sizeof(struct shmring_record), SHMRING_TYPE_MESSAGE, SHMRING_TYPE_PADDING);
  return 0;
}
