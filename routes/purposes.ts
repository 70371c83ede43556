import { purposes } from '../src/register/records/model'
import { crudRoutes } from './crud'

export default crudRoutes(purposes)
