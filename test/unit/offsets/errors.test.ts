import { describe, expect, it } from 'vitest'
import { OffsetStoreError } from '../../../src/offsets/errors.ts'

describe('OffsetStoreError.from', () => {
  it('names the setting when the SDK has no region (lkc outside Lambda, AWS_REGION unset)', () => {
    const error = OffsetStoreError.from(
      'read the run lease',
      'kafka-consumer-offsets',
      new Error('Region is missing'),
    )

    expect(error.message).toBe(
      'Could not read the run lease: no AWS region is set. In Lambda the runtime sets it; locally set AWS_REGION ' +
        "to the table's region, or DYNAMODB_ENDPOINT for a local table.",
    )
    expect(error.retriable).toBe(false)
  })

  it('keeps what any other failure said, and that nothing was lost', () => {
    const error = OffsetStoreError.from('save offsets', 'offsets', new Error('socket hang up'))

    expect(error.message).toBe(
      'Could not save offsets in DynamoDB table "offsets": socket hang up. Nothing was lost: the next run starts again from the stored offsets.',
    )
    expect(error.retriable).toBe(true)
  })
})
