import { describe, expect, it } from 'vitest'
import { configHelp } from '../../../src/cli/command.ts'

describe('configHelp', () => {
  it('shows the values it sees, except secrets, which show as ***', () => {
    const help = configHelp({
      KAFKA_TOPIC: 'orders',
      KAFKA_SASL_USERNAME: 'alice',
      KAFKA_SASL_PASSWORD: 'correct-horse-battery-staple',
    })

    expect(help).toContain('KAFKA_TOPIC (required)  [set: orders]')
    expect(help).toContain('KAFKA_SASL_USERNAME (optional)  [set: alice]')
    expect(help).toContain('KAFKA_SASL_PASSWORD (optional)  [set: ***]')
    expect(help).not.toContain('correct-horse')
  })
})
