import Fastify from 'fastify'
import closeWithGrace from 'close-with-grace'
import app, { fastifyOptions, loggerOptions } from './app'
import { loggableError } from './plugins/errors'
import { ConfigError, loadConfig } from './config'
import { nativeModuleMismatch } from './db/native-module'

/** The process: configuration, logger, listener and graceful close. */
async function main(): Promise<void> {
  let config
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`Configuration error: ${err.message}`)
      process.exit(1)
    }
    throw err
  }
  const server = Fastify(fastifyOptions(config, loggerOptions(config)))
  await server.register(app, { config })

  closeWithGrace({ delay: 10000 }, async ({ signal, err }) => {
    if (err) server.log.error({ err: loggableError(err) }, 'closing after an error')
    else server.log.info({ signal }, 'closing')
    await server.close()
  })

  let where: string
  try {
    where = await server.listen({ host: config.host, port: config.port })
  } catch (err) {
    // another process (often a server started earlier) holds the port: say so in one line
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      console.error(`Port ${config.port} on ${config.host} is in use by another process: stop it, or start on another port, e.g. PORT=${config.port + 1} npm start`)
      await server.close().catch(() => undefined)
      process.exit(1)
    }
    throw err
  }
  if (config.jwt.devSecret) {
    server.log.warn('development mode: tokens are signed with a local secret in ./data/dev-jwt-secret. '
      + 'Get one with: npm run token -- --role editor --ws demo --sub you')
  }
  server.log.info(`Swagger UI at ${where}/docs, OpenAPI document at ${where}/openapi.json`)
}

main().catch((err) => {
  console.error(nativeModuleMismatch(err) ?? err)
  process.exit(1)
})
