import { describe, expect, it } from 'vitest'
import { LambdaKafkaConsumerError, messageOf } from '../../src/errors.ts'

describe('messageOf', () => {
  it("gives an error's message, and a string or number as it is", () => {
    expect(messageOf(new TypeError('bad order'))).toBe('bad order')
    expect(messageOf('plain text')).toBe('plain text')
    expect(messageOf(42)).toBe('42')
    expect(messageOf(undefined)).toBe('undefined')
  })

  it('describes an object without a prototype instead of throwing', () => {
    const thrown = Object.assign(Object.create(null) as object, { code: 'E_DOWNSTREAM', status: 503 })

    // String() itself throws for it: the reason messageOf must not use it.
    expect(() => String(thrown)).toThrow(TypeError)
    expect(messageOf(thrown)).toBe('{"code":"E_DOWNSTREAM","status":503}')
  })

  it("uses an object's own message, and never throws on what it cannot print", () => {
    const withMessage = Object.assign(Object.create(null) as object, { message: 'quota exceeded' })
    const circular: Record<string, unknown> = {}
    circular.self = circular
    const hostile = {
      toString() {
        throw new Error('no')
      },
      toJSON() {
        throw new Error('no')
      },
    }

    expect(messageOf(withMessage)).toBe('quota exceeded')
    expect(messageOf(circular)).toBe('an unprintable thrown value (object)')
    expect(messageOf(hostile)).toBe('an unprintable thrown value (object)')
    expect(messageOf(Symbol('s'))).toBe('Symbol(s)')
  })
})

describe('LambdaKafkaConsumerError', () => {
  it('keeps its cause, says whether retrying may help, and is named after its class', () => {
    class ExampleError extends LambdaKafkaConsumerError {}
    const cause = new Error('socket hang up')

    const error = new ExampleError('Could not do it', { cause, retriable: true })

    expect(error.name).toBe('ExampleError')
    expect(error.cause).toBe(cause)
    expect(error.retriable).toBe(true)
    expect(new ExampleError('x').retriable).toBe(false)
  })
})
