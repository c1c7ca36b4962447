import { describe, expect, it } from 'vitest'
import { formatStatus } from '../../../src/cli/commands/status.ts'
import type { TopicStatus } from '../../../src/operations/partition-status.ts'

const now = Date.parse('2026-12-01T10:00:10.000Z')
const saved = '2026-12-01T10:00:00.000Z'

describe('formatStatus', () => {
  const status: TopicStatus = {
    topicId: '3cfcbe93-83c5-4c0d-88dc-d2889fa8c413',
    partitions: [
      {
        partition: 0,
        storedOffset: 5,
        logStartOffset: 0,
        logEndOffset: 8,
        lag: 2,
        nextOffset: 6,
        lastSaved: saved,
      },
      {
        partition: 1,
        storedOffset: 7,
        logStartOffset: 0,
        logEndOffset: 0,
        lag: 0,
        nextOffset: null,
        lastSaved: saved,
        unavailable: 'no leader (LEADER_NOT_AVAILABLE): its only replica, on broker 3, is offline',
      },
      {
        partition: 2,
        storedOffset: 49,
        logStartOffset: 0,
        logEndOffset: 10,
        lag: 10,
        nextOffset: null,
        lastSaved: saved,
        mismatch: { reason: 'beyond-end', storedOffset: 49, logStartOffset: 0, logEndOffset: 10 },
      },
    ],
  }

  it('shows a partition left out for want of a leader as unavailable, with the reason, not as log end 0', () => {
    const text = formatStatus('g_orders', 'offsets', status, now)

    expect(text).toMatch(/\n1\s+7\s+unavailable\s+\?\s+2026-12-01T10:00:00\.000Z \(10 s ago\)/)
    expect(text).toContain(
      'partition 1 unavailable (its log offsets and lag are unknown): no leader (LEADER_NOT_AVAILABLE): its only replica, on broker 3, is offline',
    )
    expect(text.split('\n')[0]).toBe(
      'consumer_id g_orders in table offsets: total lag 12; 1 partition(s) STOPPED until `lkc reset`; 1 unavailable',
    )
  })

  it('shows a stopped partition, why, and the command that lets runs consume it again', () => {
    const text = formatStatus('g_orders', 'offsets', status, now)

    expect(text).toMatch(/\n2\s+49\s+10\s+10 STOPPED/)
    expect(text).toContain(
      'partition 2 STOPPED, no run consumes it: stored offset 49, log 0 to 10; it is past the end of the log',
    )
    expect(text).toContain('  fix: decide where it starts: `lkc reset --to earliest --partition 2`')
  })

  it('adds nothing below the table when every partition is consumed', () => {
    const text = formatStatus('g_orders', 'offsets', { partitions: [status.partitions[0]!] }, now)

    expect(text.split('\n')).toHaveLength(3)
    expect(text).toContain('total lag 2')
  })
})
